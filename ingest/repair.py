"""``python -m ingest --repair``: bring any readable index back to a consistent state, in place.

Why in place: an index may hold documents whose files are gone (uploaded through the web
page), so the fix for damage is never "delete it and re-ingest data/". Every document's full
text is stored, so whatever else is damaged can be rebuilt from it:

1. an index of the old schema (1) is upgraded: its stored documents are re-ingested;
2. a killed ingest's leftovers are finished or undone (``IndexWriter.recover``);
3. rows the manifest does not name (orphans) are deleted;
4. a document whose sentence rows are incomplete is re-split and re-embedded from its text;
5. the query cache is rebuilt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from assistant.settings import Settings
from assistant.store import ManifestEntry, doc_key
from assistant.types import Document
from ingest.pipeline import Ingestor, prepare_many


@dataclass
class RepairReport:
    """What a repair found and did; ``summary()`` is the CLI's line."""

    upgraded: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    orphan_rows: int = 0
    rebuilt: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # text unreadable: only re-ingesting its file helps
    documents: int = 0

    def summary(self) -> str:
        lost = f"; LOST (re-ingest their files): {', '.join(self.lost)}" if self.lost else ""
        return (f"repaired: {self.documents} documents readable, "
                f"{len(self.upgraded)} upgraded from schema 1, "
                f"{len(self.unfinished)} unfinished ingests cleaned, {self.orphan_rows} orphan rows removed, "
                f"{len(self.rebuilt)} documents rebuilt from their stored text{lost}")


def has_legacy(client: Any, settings: Settings) -> bool:
    """Does the index still hold schema-1 collections (written by the previous version)?"""
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    return settings.documents_collection in names


def _legacy_documents(client: Any, ingestor: Ingestor) -> list[Document]:
    """The documents of a schema-1 index (llama-index nodes), or [] when there is none."""
    s = ingestor.settings
    if not has_legacy(client, s):
        return []
    got = client.get_collection(s.documents_collection, embedding_function=None).get(
        include=["documents", "metadatas"])
    docs = []
    for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
        doc_id = str(meta.get("doc_id") or meta.get("document_id"))
        docs.append(Document(doc_id, text or "", str(meta.get("source", "")),
                             str(meta.get("content_hash", "")), str(meta.get("title", doc_id))))
    return docs


def _drop_legacy(client: Any, ingestor: Ingestor) -> None:
    s = ingestor.settings
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    for name in (s.sentences_collection, s.chunks_collection, s.documents_collection):
        if name in names:
            client.delete_collection(name)


def _broken_documents(ingestor: Ingestor) -> tuple[list[Document], list[str]]:
    """Current documents whose sentence rows are incomplete: (rebuildable, text lost)."""
    writer = ingestor.writer
    counts: Counter[str] = Counter()
    offset = 0
    while True:
        got = writer.cols.sentences.get(limit=5000, offset=offset, include=[])
        counts.update(i.split(":", 1)[0] for i in got["ids"])
        if len(got["ids"]) < 5000:
            break
        offset += 5000
    broken = {doc_key(d, e.content_hash): e for d, e in writer.manifest.items()
              if e.content_hash and counts[doc_key(d, e.content_hash)] != e.sentences}
    if not broken:
        return [], []
    got = writer.cols.documents.get(ids=list(broken), include=["documents", "metadatas"])
    docs = [Document(m["doc"], t or "", str(m.get("source", "")), str(m["h"]), str(m.get("title", "")))
            for t, m in zip(got["documents"] or [], got["metadatas"] or [], strict=True) if t]
    found = {d.doc_id for d in docs}
    return docs, sorted(e.doc_id for e in broken.values() if e.doc_id not in found)


def repair(ingestor: Ingestor) -> RepairReport:
    """Repair the index of ``ingestor`` (see the module docstring)."""
    report = RepairReport()
    writer = ingestor.writer
    try:
        legacy = _legacy_documents(writer.client, ingestor)
        if legacy:
            up = ingestor.ingest_documents(legacy)
            report.upgraded = up.added + up.replaced + up.unchanged
            _drop_legacy(ingestor.writer.client, ingestor)
            writer = ingestor.writer
        report.unfinished = writer.recover().unfinished
        report.orphan_rows = writer.remove_orphans()
        docs, lost = _broken_documents(ingestor)
        if docs:
            # Same ids again: the writer upserts, so the surviving rows are overwritten, the
            # missing ones added; the entry is reset so nothing is marked stale.
            for d in docs:
                writer.manifest[d.doc_id] = ManifestEntry(d.doc_id)
            prepared, _errors = prepare_many(docs, ingestor.embedder, ingestor.with_entities)
            writer.commit(prepared)
            report.rebuilt = [d.doc_id for d in docs]
        if lost:
            for doc_id in lost:
                writer.delete(doc_id)
            report.lost = lost
        ingestor.refresh_cache()
        report.documents = len(writer.manifest)
    finally:
        writer.close()
        ingestor._writer = None
    return report
