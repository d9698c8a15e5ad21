"""Atomic writes into the Chroma index: new rows first, then the manifest switch, then deletes.

Per document the order is: (1) the manifest marks the new version *pending*; (2) its
sentence rows and document row are added under ids derived from (document, hash); (3) one
manifest upsert makes the new version current and marks the old one *stale*, then the
generation token changes; (4) the stale rows are deleted and the mark cleared. Readers only
read what the manifest calls current, so a kill at any point leaves either the old version
or the new one readable, never a mix and never neither. Leftovers of a kill (pending or
stale marks, orphan rows) are cleaned by ``recover()`` at the start of every ingest and by
``python -m ingest --repair``.

One writer at a time: an embedded index is locked (``fcntl``) while a writer holds it.
"""

from __future__ import annotations

import fcntl
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.core.settings import Settings
from assistant.core.types import Document, Sentence
from assistant.index.store import (
    GENERATION_ID,
    Collections,
    ManifestEntry,
    doc_key,
    entities_to_json,
    get_collections,
    manifest_id,
    open_client,
    read_manifest,
    sentence_row_ids,
)


@dataclass
class PreparedDocument:
    """A document ready to write: everything computed, nothing stored yet."""

    document: Document
    sentences: list[Sentence]
    vectors: np.ndarray  # (len(sentences), dim), L2-normalised


@dataclass
class RecoveryReport:
    """What ``recover``/``repair`` cleaned up."""

    unfinished: list[str] = field(default_factory=list)  # documents a killed ingest left marked
    orphan_rows: int = 0


class IndexWriter:
    """The only code that changes an index (documents are added, replaced or deleted here)."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.settings = settings
        self.client = client
        self._cols: Collections | None = None
        self._manifest: dict[str, ManifestEntry] | None = None
        self._lock_file: Any = None

    @property
    def cols(self) -> Collections:
        if self._cols is None:
            self._lock()
            if self.client is None:
                self.client = open_client(self.settings)
            self._cols = get_collections(self.client, self.settings, create=True)
        return self._cols

    def _lock(self) -> None:
        """Serialise writers of one embedded index (e.g. the web page's upload and the CLI)."""
        if self.settings.chroma_host or self._lock_file is not None:
            return
        from assistant.core.errors import IndexCorruptError

        try:
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = (self.settings.index_dir / "ingest.lock").open("a")
        except (FileExistsError, NotADirectoryError) as exc:
            raise IndexCorruptError(f"the index path {self.settings.index_dir} is a file, not a folder; set "
                                    "ASSISTANT_INDEX_DIR (or --index-dir) to a folder") from exc
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    @property
    def manifest(self) -> dict[str, ManifestEntry]:
        if self._manifest is None:
            self._manifest = read_manifest(self.cols.manifest)
        return self._manifest

    def stored_hash(self, doc_id: str) -> str | None:
        entry = self.manifest.get(doc_id)
        return entry.content_hash if entry and entry.content_hash else None

    # -- the protocol --------------------------------------------------------------------------------
    def _put_manifest(self, entries: Sequence[ManifestEntry]) -> None:
        if entries:
            self.cols.manifest.upsert(
                ids=[manifest_id(e.doc_id) for e in entries],
                embeddings=np.ones((len(entries), 1), dtype=np.float32),
                metadatas=[e.to_metadata() for e in entries],
            )
            for e in entries:
                self.manifest[e.doc_id] = e

    def _bump_generation(self) -> None:
        self.cols.manifest.upsert(ids=[GENERATION_ID], embeddings=np.ones((1, 1), dtype=np.float32),
                                  metadatas=[{"gen": uuid.uuid4().hex[:16]}])

    def _batched(self, ids: list[str], **columns: Any) -> Iterable[dict[str, Any]]:
        step = max(1, self.client.get_max_batch_size() if self.client is not None else 5000)
        for a in range(0, len(ids), step):
            yield {"ids": ids[a : a + step], **{k: v[a : a + step] for k, v in columns.items()}}

    def add_sentences(self, docs: Sequence[PreparedDocument], first: Sequence[int] | None = None) -> None:
        """Step (2a): sentence rows of ``docs`` (pending versions), ``first[i]`` the number of
        ``docs[i]``'s first sentence (a long document arrives piece by piece; default 0)."""
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors = [p.vectors for p in docs]
        for i, p in enumerate(docs):
            h = p.document.content_hash
            at = first[i] if first else 0
            ids += sentence_row_ids(p.document.doc_id, h, at + len(p.sentences))[at:]
            for s in p.sentences:
                meta: dict[str, Any] = {"doc": s.doc_id, "h": h, "sid": s.sentence_id, "start": s.start,
                                        "end": s.end, "para": s.paragraph}
                if s.is_heading:
                    meta["head"] = True
                if s.entities:
                    meta["ents"] = entities_to_json(s.entities)
                metas.append(meta)
        matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, 384), np.float32)
        for batch in self._batched(ids, embeddings=matrix, metadatas=metas):
            self.cols.sentences.upsert(**batch)  # upsert: a repair may rewrite surviving rows

    def add_documents(self, docs: Sequence[tuple[Document, int, np.ndarray]]) -> None:
        """Step (2b): the document rows (full text), each with its sentence count and vector."""
        self.cols.documents.upsert(
            ids=[doc_key(d.doc_id, d.content_hash) for d, _n, _v in docs],
            embeddings=np.vstack([v for _d, _n, v in docs]).astype(np.float32),
            documents=[d.text for d, _n, _v in docs],
            metadatas=[{"doc": d.doc_id, "h": d.content_hash, "source": d.source, "title": d.title, "n": n}
                       for d, n, _v in docs],
        )

    def begin(self, docs: Sequence[tuple[Document, int]]) -> dict[str, ManifestEntry]:
        """Step (1): mark each (document, sentence count) pending; returns the entries before."""
        before = {d.doc_id: self.manifest.get(d.doc_id, ManifestEntry(d.doc_id)) for d, _n in docs}
        self._put_manifest([replace(before[d.doc_id], pending=d.content_hash, pending_sentences=n)
                            for d, n in docs])
        return before

    def switch(self, docs: Sequence[tuple[Document, int]], before: dict[str, ManifestEntry]) -> None:
        """Steps (3) and (4): the new versions become current, then the old rows go."""
        switched = [
            ManifestEntry(d.doc_id, d.content_hash, n, stale=before[d.doc_id].content_hash,
                          stale_sentences=before[d.doc_id].sentences)
            for d, n in docs
        ]
        self._put_manifest(switched)  # (3) the switch
        self._bump_generation()
        self._drop_stale([e for e in switched if e.stale])  # (4)

    def abandon(self, doc: Document, n: int) -> None:
        """Undo a pending version that will not be finished (a cancelled long upload): its
        rows and its mark go, the current version stays. ``recover()`` does the same after a kill."""
        entry = self.manifest.get(doc.doc_id)
        if entry is None or entry.pending != doc.content_hash:
            return
        if entry.pending != entry.content_hash:
            self._drop_rows(doc.doc_id, doc.content_hash, n)
        if entry.content_hash:
            self._put_manifest([replace(entry, pending="", pending_sentences=0)])
        else:
            self.cols.manifest.delete(ids=[manifest_id(doc.doc_id)])
            self.manifest.pop(doc.doc_id, None)

    def commit(self, docs: Sequence[PreparedDocument]) -> None:
        """Add or replace ``docs`` atomically per document (see the module docstring)."""
        if not docs:
            return
        sized = [(p.document, len(p.sentences)) for p in docs]
        before = self.begin(sized)  # (1)
        self._add_rows(docs)  # (2)
        self.switch(sized, before)  # (3), (4)

    def _add_rows(self, docs: Sequence[PreparedDocument]) -> None:
        """Step (2) for whole documents: their sentence rows, then their document rows."""
        self.add_sentences(docs)
        self.add_documents([(p.document, len(p.sentences), _mean_vector(p.vectors)) for p in docs])

    def delete(self, doc_id: str) -> bool:
        """Remove a document: the manifest forgets it first, then its rows go."""
        entry = self.manifest.get(doc_id)
        if entry is None:
            return False
        self._put_manifest([ManifestEntry(doc_id, stale=entry.content_hash, stale_sentences=entry.sentences)])
        self._bump_generation()
        self._drop_stale([self.manifest[doc_id]])
        return True

    def _drop_rows(self, doc_id: str, content_hash: str, n: int) -> None:
        ids = sentence_row_ids(doc_id, content_hash, n)
        for batch in self._batched(ids):
            self.cols.sentences.delete(ids=batch["ids"])
        self.cols.documents.delete(ids=[doc_key(doc_id, content_hash)])

    def _drop_stale(self, entries: Sequence[ManifestEntry]) -> None:
        for e in entries:
            if e.stale and e.stale != e.content_hash:
                self._drop_rows(e.doc_id, e.stale, e.stale_sentences)
        done = [replace(e, stale="", stale_sentences=0) for e in entries if e.content_hash]
        self._put_manifest(done)
        gone = [e.doc_id for e in entries if not e.content_hash]
        if gone:
            self.cols.manifest.delete(ids=[manifest_id(d) for d in gone])
            for d in gone:
                self.manifest.pop(d, None)

    # -- after a kill ------------------------------------------------------------------------------------
    def recover(self) -> RecoveryReport:
        """Finish or undo what a killed writer left: pending versions are deleted (they were
        never current), stale ones too; the generation changes so caches are rebuilt."""
        report = RecoveryReport()
        marked = [e for e in self.manifest.values() if e.pending or e.stale or not e.content_hash]
        for e in marked:
            report.unfinished.append(e.doc_id)
            if e.pending and e.pending != e.content_hash:
                self._drop_rows(e.doc_id, e.pending, e.pending_sentences)
            self._put_manifest([replace(e, pending="", pending_sentences=0)])
        if marked:
            self._drop_stale([self.manifest[d] for d in report.unfinished])
            self._bump_generation()
        return report

    def remove_orphans(self) -> int:
        """Delete every row the manifest does not name (a full scan: ``--repair`` only)."""
        live = {doc_key(d, e.content_hash) for d, e in self.manifest.items() if e.content_hash}
        removed = 0
        for col in (self.cols.sentences, self.cols.documents):
            orphans: list[str] = []
            offset = 0
            while True:
                got = col.get(limit=5000, offset=offset, include=[])
                orphans += [i for i in got["ids"] if i.split(":", 1)[0] not in live]
                if len(got["ids"]) < 5000:
                    break
                offset += 5000
            for batch in self._batched(orphans):
                col.delete(ids=batch["ids"])
            removed += len(orphans)
        if removed:
            self._bump_generation()
        return removed


def _mean_vector(vectors: np.ndarray) -> np.ndarray:
    """A document's vector: the normalised mean of its sentences' (stored for document search)."""
    v = vectors.mean(0) if len(vectors) else np.zeros(vectors.shape[1] if vectors.ndim == 2 else 384)
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
