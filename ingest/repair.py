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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.core.settings import Settings
from assistant.core.types import Document
from assistant.index.store import ManifestEntry, doc_key
from assistant.retrieval.embedder import Embedder
from ingest.legacy import drop_legacy, legacy_documents
from ingest.prepare import prepare_many
from ingest.writer import IndexWriter


class Ingested(Protocol):
    """What repair reads of an ingest run's report (``ingest.pipeline.IngestReport``)."""

    added: list[str]
    replaced: list[str]
    unchanged: list[str]


class Repairable(Protocol):
    """The ingestor a repair works through (``ingest.pipeline.Ingestor``).

    A protocol, not an import: the pipeline runs a repair when it meets an old index, so
    importing the pipeline here would make the two modules import each other.
    """

    settings: Settings
    with_entities: bool

    @property
    def writer(self) -> IndexWriter: ...

    @property
    def embedder(self) -> Embedder: ...

    def ingest_documents(self, documents: Iterable[Document]) -> Ingested: ...

    def refresh_cache(self, carry: bool = True) -> None: ...

    def release_writer(self) -> None: ...


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


def _broken_documents(ingestor: Repairable) -> tuple[list[Document], list[str]]:
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


def repair(ingestor: Repairable) -> RepairReport:
    """Repair the index of ``ingestor`` (see the module docstring)."""
    report = RepairReport()
    writer = ingestor.writer
    try:
        legacy = legacy_documents(writer.client, ingestor.settings)
        if legacy:
            up = ingestor.ingest_documents(legacy)
            report.upgraded = up.added + up.replaced + up.unchanged
            drop_legacy(ingestor.writer.client, ingestor.settings)
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
        ingestor.refresh_cache(carry=False)  # a repaired index gets a cache built from Chroma alone
        report.documents = len(writer.manifest)
    finally:
        writer.close()
        ingestor.release_writer()
    return report
