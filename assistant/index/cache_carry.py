"""What a new query-cache generation takes from the one before it: every unchanged document.

Why: each ingest makes a new generation, and building its cache from scratch read every row
back from Chroma and recomputed every sentence's terms and words, every document's people
and the IVF clusters — 48 s at 106k sentences for an upload of one page. A document whose
version (content hash, sentence count) is the same in both generations has the same rows,
vectors, terms, words and people, so they are copied from the previous cache; only the new
or changed documents are read from Chroma and computed. The corpus-wide tables (BM25, term
counts, names) are still written whole, from those per-sentence lists.

Reuse is safe only when the previous cache was written by the same code: its ``meta.json``
carries ``builder_key()``, a hash of the modules and data that decide what is stored, and a
cache of another key is not carried from (the next build is a full one).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.errors import IndexCorruptError
from assistant.index.snapshot import (
    END,
    HEAD,
    PARA,
    SID,
    START,
    IndexSnapshot,
    current_generation,
    open_cache,
)
from assistant.index.store import ManifestEntry

log = logging.getLogger(__name__)
_PACKAGE = Path(__file__).resolve().parents[1]
# What decides the stored terms, words, people and names: the language resources and their data,
# the support facts, and the cache code itself.
_BUILDER_GLOBS = ("language/*.py", "data/*", "answering/support.py", "answering/holders.py",
                  "index/*.py", "retrieval/ivf.py", "retrieval/bm25_mmap.py", "core/types.py")


@lru_cache(maxsize=1)
def builder_key() -> str:
    """A hash of the code and data that decide what a cache stores (see the module docstring)."""
    h = hashlib.sha256()
    for pattern in _BUILDER_GLOBS:
        for path in sorted(_PACKAGE.glob(pattern)):
            if path.is_file():
                h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Carried:
    """The previous generation's cache and the rows of each document it can give unchanged.

    Its corpus-wide tables and IVF centroids are read when it is made: another process may
    delete the previous generation's folder meanwhile (``cache_build._clean``), which leaves
    the memory-mapped files readable but not the ones a later call would open."""

    previous: IndexSnapshot
    ranges: dict[str, range]  # doc_id -> its rows in ``previous``
    names: frozenset[str] = frozenset()  # ``CorpusTerms.corpus_names``, when ``grown``
    labels: dict[str, list[str]] = field(default_factory=dict)  # ``entity_labels``, when ``grown``
    person_words: dict[str, list[int]] = field(default_factory=dict)  # by previous position, when ``grown``
    doc_words: frozenset[str] = frozenset()  # ``DocumentTable.words``, when ``grown``
    centroids: np.ndarray | None = None  # the previous IVF index's, if it had one

    @property
    def grown(self) -> bool:
        """Every previous document is carried: documents were only added (each corpus table is
        then the previous one merged with the new documents')."""
        return len(self.ranges) == len(self.previous.documents)

    def document(self, doc_id: str) -> dict[str, Any]:
        """The document as ``cache_build`` rows it (text, source, title, hash)."""
        d = self.previous.documents[doc_id]
        return {"doc_id": d.doc_id, "text": d.text, "source": d.source, "title": d.title,
                "hash": d.content_hash}

    def rows(self, doc_id: str) -> list[tuple]:
        """The document's sentence rows (doc_id, sid, start, end, paragraph, heading, entities JSON)."""
        table = self.previous.sentences
        out = []
        for i in self.ranges[doc_id]:
            r = table.rows[i]
            out.append((doc_id, int(r[SID]), int(r[START]), int(r[END]), int(r[PARA]), bool(r[HEAD]),
                        table.entities_json(i)))
        return out


def carried_documents(root: Path, current: Mapping[str, ManifestEntry]) -> Carried | None:
    """The documents of ``current`` (the manifest's live versions) that the cache generation
    ``root/CURRENT`` names holds in the same version, from a cache this code wrote; None when
    there is no such cache or it holds none of them."""
    gen = current_generation(root)
    if not gen:
        return None
    try:
        previous = open_cache(root, gen)
    except IndexCorruptError as exc:
        log.info("query cache: not reusing generation %s (%s)", gen, exc)
        return None
    if previous is None or previous.documents.builder != builder_key():
        return None
    docs = previous.documents
    wanted = [d for d, e in current.items() if d in docs and docs.content_hash(d) == e.content_hash]
    starts, stops = previous.sentences.doc_ranges(wanted)  # one pair per id: every wanted one is known
    ranges = {d: range(int(a), int(b)) for d, a, b in zip(wanted, starts, stops, strict=True)
              if b - a == current[d].sentences}
    if not ranges:
        return None
    try:
        return _with_tables(Carried(previous, ranges))
    except (OSError, ValueError) as exc:
        log.info("query cache: not reusing generation %s (%s)", gen, exc)
        return None


def _with_tables(carried: Carried) -> Carried:
    """``carried`` with the previous generation's small tables read now (see ``Carried``)."""
    prev = carried.previous
    centroids = np.load(prev.ivf_dir / "centroids.npy") if prev.ivf_dir is not None else None
    if not carried.grown:
        return replace(carried, centroids=centroids)
    return replace(carried, names=prev.terms.corpus_names(), labels=prev.terms.entity_labels(),
                   person_words=prev.documents.person_words(), doc_words=prev.documents.words(),
                   centroids=centroids)


def origins(carried: Carried | None, doc_ids: list[str], counts: list[int]) -> np.ndarray:
    """For each row of a new cache whose documents are ``doc_ids`` (in order, ``counts`` rows
    each): its row in the previous cache, or -1 for a row computed anew."""
    parts = []
    for d, n in zip(doc_ids, counts, strict=True):
        rows = carried.ranges.get(d) if carried is not None else None
        parts.append(np.arange(rows.start, rows.stop) if rows is not None else np.full(n, -1))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

