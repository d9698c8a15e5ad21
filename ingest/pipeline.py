"""files -> documents -> sentences (+ entities) -> embeddings -> Chroma -> query cache.

Fast because the work is batched across documents: every document of a group is split
first, spaCy annotates them all in one ``nlp.pipe``, MiniLM (ONNX Runtime,
``ingest.onnx_embedder``) embeds all their sentences in one call, sorted by length so short
sentences are not padded to long ones, and Chroma receives a few large writes per group
instead of three per document. A document over ``STREAM_CHARS`` (a book) is written piece
by piece instead (``ingest.stream``): memory holds one piece and progress moves with each.
Sentences are embedded alone: the old chunk collection was read by nothing and its long
texts cost more to embed than all the sentences.

Careful with the index (see ``ingest.writer``): a document whose stored hash matches is
skipped; a changed one is prepared completely before anything is written (a long one: its rows
are written as a pending version, piece by piece), then switched in atomically; a file that
cannot be read is reported by name and never touches the index.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.errors import IngestError
from assistant.core.settings import Settings
from assistant.core.types import Document
from assistant.retrieval.embedder import Embedder
from ingest.legacy import has_legacy
from ingest.loaders import SUPPORTED, collect_files, doc_id_for, load_bytes, load_file
from ingest.prepare import StepProgress, prepare_many
from ingest.repair import repair
from ingest.stream import STREAM_CHARS, ingest_long
from ingest.writer import IndexWriter

GROUP_SENTENCES = 4096  # sentences prepared and written together (bounds memory, keeps batches big)
MODEL_BATCH = 16  # length-sorted sentences per forward pass: little padding, stays in cache (measured)


def embed_threads() -> int:
    """Torch threads for embedding (``embed_backend="torch"``): the cores other work leaves
    idle (at least one).

    Why: on a shared 2-core machine (load 4-5) two OpenMP threads spin against the other
    processes and embedded 2-3x fewer sentences per second than one thread (measured: 20-26
    vs 35-61 sentences/s); on a quiet machine both cores are used.
    """
    cpus = os.cpu_count() or 1
    return max(1, min(cpus, round(cpus - os.getloadavg()[0])))


def _load_embedder(settings: Settings) -> Embedder:
    """ONNX Runtime MiniLM (``ingest.onnx_embedder``) unless settings ask for torch or the
    graph cannot be exported here (no ``onnx`` package): then sentence-transformers, which
    gives the same vectors more slowly."""
    model_path = settings.resolved_model_path()
    if settings.embed_backend in ("onnx", "onnx-int8"):
        try:
            from ingest.onnx_embedder import OnnxMiniLM

            precision = "int8" if settings.embed_backend == "onnx-int8" else "fp32"
            # every core: idle ONNX threads sleep rather than spin, so unlike torch's OpenMP
            # threads they do not lose to other work on a busy machine (measured at load 2 on
            # 2 cores: 2 threads embed 1.6x faster than 1; docs/measurements.md)
            return OnnxMiniLM(model_path, settings.onnx_dir, threads=os.cpu_count() or 1,
                              batch_size=MODEL_BATCH, precision=precision)
        except ImportError as exc:
            print(f"note: embedding with sentence-transformers (slower): {exc}", file=sys.stderr)
    elif settings.embed_backend != "torch":
        raise ValueError(f"ASSISTANT_EMBED_BACKEND={settings.embed_backend!r}: use onnx, onnx-int8 or torch")
    from assistant.retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model_path, batch_size=MODEL_BATCH)


def _set_torch_threads() -> None:
    """When torch embeds (``embed_backend="torch"``), it uses the cores the load leaves idle."""
    if "torch" in sys.modules:  # the real model (tests' fakes need no threads)
        sys.modules["torch"].set_num_threads(embed_threads())


@dataclass
class IngestReport:
    """What one ingest run did; ``summary()`` is the line the CLI and the UI print."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    sentences: int = 0
    seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)  # documents a killed ingest had left marked
    # seconds per stage: split, entities, embed, write (Chroma), cache (the query cache build)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def documents(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.unchanged)

    def summary(self) -> str:
        fast = self.sentences and self.seconds
        rate = f" ({self.sentences / self.seconds:.0f} sentences/s)" if fast else ""
        return (
            f"{self.documents} documents ({len(self.added)} added, {len(self.replaced)} replaced, "
            f"{len(self.unchanged)} unchanged, {len(self.errors)} failed), {self.sentences} sentences, "
            f"{self.seconds:.1f} s{rate}"
        )


def _groups(docs: Iterable[Document], limit: int | None = None) -> Iterator[list[Document]]:
    """Documents in groups of about ``limit`` sentences (estimated from length: ~120 chars)."""
    limit = limit or GROUP_SENTENCES
    group: list[Document] = []
    size = 0
    for doc in docs:
        group.append(doc)
        size += len(doc.text) // 120 + 1
        if size >= limit:
            yield group
            group, size = [], 0
    if group:
        yield group


class Ingestor:
    """Writes documents into the index; one instance reuses its Chroma client and model."""

    supported: frozenset[str] = frozenset(SUPPORTED)  # file name endings it reads

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        client: Any | None = None,
        with_entities: bool = True,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._client = client
        self._writer: IndexWriter | None = None
        self.with_entities = with_entities

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = _load_embedder(self.settings)
        return self._embedder

    @property
    def writer(self) -> IndexWriter:
        if self._writer is None:
            self._writer = IndexWriter(self.settings, self._client)
            self._writer.cols  # noqa: B018 - opens (and locks) the index now, with a clear error
            self._client = self._writer.client
        return self._writer

    def release_writer(self) -> None:
        """Close the writer (releasing the index lock) and forget it: the next use reopens."""
        if self._writer is not None:
            self._writer.close()
        self._writer = None

    def stored_hash(self, doc_id: str) -> str | None:
        """The content hash the index holds for ``doc_id`` (None when absent)."""
        return self.writer.stored_hash(doc_id)

    def ingest_documents(
        self,
        documents: Iterable[Document],
        progress: Callable[[str], None] | None = None,
        on_step: StepProgress | None = None,
    ) -> IngestReport:
        """Add or replace ``documents``; unchanged ones are skipped."""
        report = IngestReport()
        t0 = time.perf_counter()
        self._upgrade_schema_1()
        writer = self.writer
        try:
            report.recovered = writer.recover().unfinished
            latest = {d.doc_id: d for d in documents}  # a later file with the same name wins
            todo: list[Document] = []
            for doc in latest.values():
                if writer.stored_hash(doc.doc_id) == doc.content_hash:
                    report.unchanged.append(doc.doc_id)
                    if progress:
                        progress(doc.doc_id)
                else:
                    todo.append(doc)
            for group in _groups([d for d in todo if len(d.text) <= STREAM_CHARS]):
                self._ingest_group(group, report, progress, on_step)
            for doc in (d for d in todo if len(d.text) > STREAM_CHARS):
                self._ingest_long(doc, report, progress, on_step)
            t = time.perf_counter()
            self.refresh_cache()
            report.timings["cache"] = time.perf_counter() - t
        finally:
            writer.close()
            self._writer = None
        report.seconds = time.perf_counter() - t0
        return report

    def _upgrade_schema_1(self) -> None:
        """An index written by the previous version (schema 1) is upgraded before anything
        is added, so documents uploaded into it are never left behind (see ingest.repair)."""
        if getattr(self, "_upgrading", False):
            return
        if has_legacy(self.writer.client, self.settings):
            self._upgrading = True
            try:
                repair(self)
            finally:
                self._upgrading = False
                self._writer = None

    def _ingest_group(
        self,
        group: list[Document],
        report: IngestReport,
        progress: Callable[[str], None] | None,
        on_step: StepProgress | None = None,
    ) -> None:
        _set_torch_threads()
        prepared, errors = prepare_many(group, self.embedder, self.with_entities, on_step, report.timings)
        report.errors.extend(errors)
        t = time.perf_counter()
        old = {p.document.doc_id: self.writer.stored_hash(p.document.doc_id) for p in prepared}
        self.writer.commit(prepared)
        report.timings["write"] = report.timings.get("write", 0.0) + time.perf_counter() - t
        for p in prepared:
            (report.replaced if old[p.document.doc_id] else report.added).append(p.document.doc_id)
            report.sentences += len(p.sentences)
        if progress:
            for doc in group:
                progress(doc.doc_id)

    def _ingest_long(
        self, doc: Document, report: IngestReport, progress: Callable[[str], None] | None,
        on_step: StepProgress | None,
    ) -> None:
        """A long document piece by piece (``ingest.stream``): progress after every piece."""
        _set_torch_threads()
        replaced = bool(self.writer.stored_hash(doc.doc_id))
        try:
            n = ingest_long(doc, self.writer, self.embedder, self.with_entities, on_step, report.timings)
        except IngestError as exc:
            report.errors.append(exc)
            return
        (report.replaced if replaced else report.added).append(doc.doc_id)
        report.sentences += n
        if progress:
            progress(doc.doc_id)

    def refresh_cache(self, carry: bool = True) -> None:
        """Bring the answerer's query cache to the index's current generation (``carry=False``:
        built wholly from Chroma, not from the previous cache's unchanged documents)."""
        from assistant.index.cache_build import ensure_cache

        ensure_cache(self.settings, self.writer.cols, carry=carry)

    def ingest_paths(self, paths: list[Path], progress: Callable[[str], None] | None = None,
                     on_step: StepProgress | None = None) -> IngestReport:
        """Read every file first (errors are collected by name), then write the good ones. A
        document is its file name (``loaders.doc_id_for``), so a second file of the same name in
        one run is refused with the reason instead of silently replacing the first."""
        t0 = time.perf_counter()
        docs: list[Document] = []
        errors: list[IngestError] = []
        named: dict[str, Path] = {}
        for path in collect_files(paths):
            first = named.setdefault(doc_id_for(path), path)
            if first != path:
                errors.append(IngestError(str(path), f"has the same file name as {first}, and documents are "
                                          "known by file name: rename one of them and ingest it again"))
                continue
            try:
                docs.append(load_file(path, self.settings.max_file_bytes))
            except IngestError as exc:
                errors.append(exc)
        report = self.ingest_documents(docs, progress, on_step) if docs else IngestReport()
        report.errors = errors + report.errors
        report.seconds = time.perf_counter() - t0
        return report

    def load_upload(self, name: str, data: bytes) -> Document:
        """An upload's bytes as a ``Document`` named by its file name (raises ``IngestError``)."""
        return load_bytes(data, Path(Path(name).name), self.settings.max_file_bytes)

    def ingest_upload(self, name: str, data: bytes) -> IngestReport:
        """Ingest bytes that came from the web page under the file name ``name``."""
        try:
            doc = self.load_upload(name, data)
        except IngestError as exc:
            return IngestReport(errors=[exc])
        return self.ingest_documents([doc])

    def delete(self, doc_id: str) -> None:
        """Remove a document and all its rows."""
        try:
            if self.writer.delete(doc_id):
                self.refresh_cache()
        finally:
            self.writer.close()
            self._writer = None

    def counts(self) -> dict[str, int]:
        """Rows per collection (orphans of an interrupted ingest included): sentences, documents."""
        try:
            cols = self.writer.cols
            return {"sentences": cols.sentences.count(), "documents": cols.documents.count()}
        finally:
            self.writer.close()
            self._writer = None
