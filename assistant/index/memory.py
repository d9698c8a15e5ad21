"""An index held in memory, made into the same query cache the product answers from.

Why: the answerer reads every corpus fact (document frequencies, names, who each document
names, ...) from the cache's tables (``assistant.core.corpus``) and has no second way of
computing them. A snapshot made from plain rows (tests, a caller's own documents) is therefore
written with ``write_cache`` into a private temporary folder and opened with ``open_cache``:
one code path per fact, whatever the index came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from assistant.core.types import Document, Sentence
from assistant.index.cache_build import write_cache
from assistant.index.snapshot import IndexSnapshot, TemporaryCache, open_cache
from assistant.index.store import entities_to_json

GENERATION = "memory"


def snapshot_from_rows(
    documents: Mapping[str, Document] | Iterable[Document],
    sentences: Sequence[Sentence],
    embeddings: np.ndarray,
    *,
    ivf_from: int | None = None,
) -> IndexSnapshot:
    """The snapshot of these documents and sentences (row i of ``embeddings`` belongs to
    ``sentences[i]``), as the query cache holds it: documents sorted by id, sentences in
    (document, sentence id) order, like an index built by ``ingest``. Every sentence's text
    must be its document's ``text[start:end]`` (``ValueError`` otherwise: the cache stores
    offsets, not copies). ``ivf_from``: as ``write_cache``'s. The folder is removed with the
    last of the snapshot's tables (``TemporaryCache``)."""
    docs = sorted(documents.values() if isinstance(documents, Mapping) else documents, key=lambda d: d.doc_id)
    position = {d.doc_id: i for i, d in enumerate(docs)}
    texts = {d.doc_id: d.text for d in docs}
    for s in sentences:
        if s.doc_id not in texts:
            raise ValueError(f"sentence {s.key} belongs to no given document")
        if texts[s.doc_id][s.start : s.end] != s.text:
            raise ValueError(f"sentence {s.key} is not its document's text[{s.start}:{s.end}]")
    order = sorted(range(len(sentences)), key=lambda i: _order_key(sentences[i], position))
    rows = [_row(sentences[i]) for i in order]
    vectors = np.asarray(embeddings, dtype=np.float32)[np.asarray(order, dtype=np.int64)]
    doc_rows: list[dict[str, Any]] = [
        {"doc_id": d.doc_id, "text": d.text, "source": d.source, "title": d.title, "hash": d.content_hash}
        for d in docs
    ]
    temporary = TemporaryCache()
    folder = temporary.root / f"gen-{GENERATION}"
    folder.mkdir()
    write_cache(folder, doc_rows, rows, vectors, ivf_from=ivf_from)
    snapshot = open_cache(temporary.root, GENERATION)
    assert snapshot is not None  # just written, DONE last
    snapshot.documents.temporary = snapshot.sentences.temporary = snapshot.terms.temporary = temporary
    return snapshot


def _order_key(s: Sentence, position: dict[str, int]) -> tuple[int, int]:
    return position[s.doc_id], s.sentence_id


def _row(s: Sentence) -> tuple[str, int, int, int, int, bool, str]:
    """``s`` as a sentence row of ``write_cache`` (what ``cache_build._read_sentences`` reads)."""
    ents = entities_to_json(s.entities) if s.entities else ""
    return (s.doc_id, s.sentence_id, s.start, s.end, s.paragraph, s.is_heading, ents)
