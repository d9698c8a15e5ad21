"""files -> documents -> sentences (+ entities) -> chunks -> embeddings -> Chroma.

Idempotent and careful with the index:
* ids are content hashes, and a document whose stored hash matches is skipped (no rows added);
* a changed document is fully prepared (split, annotated, embedded) *before* its old rows are
  deleted, so a failure while preparing leaves the index exactly as it was;
* a file that cannot be read is reported by name and never touches the index.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedder import Embedder
from assistant.errors import IngestError
from assistant.settings import Settings
from assistant.store import entities_to_json, get_collections, open_client
from assistant.types import Chunk, Document, Sentence
from ingest.chunk import make_chunks
from ingest.loaders import collect_files, load_bytes, load_file
from ingest.sentences import split_sentences


@dataclass
class IngestReport:
    """What one ingest run did; ``summary()`` is the line the CLI and the UI print."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    sentences: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def documents(self) -> int:
        return len(self.added) + len(self.replaced) + len(self.unchanged)

    def summary(self) -> str:
        return (
            f"{self.documents} documents ({len(self.added)} added, {len(self.replaced)} replaced, "
            f"{len(self.unchanged)} unchanged, {len(self.errors)} failed), {self.sentences} sentences, "
            f"{self.chunks} chunks, {self.seconds:.1f} s"
        )


@dataclass
class PreparedDocument:
    """A document ready to write: everything computed, nothing stored yet."""

    document: Document
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray


def _node_id(doc: Document, kind: str, index: int) -> str:
    raw = f"{doc.doc_id}\x1f{doc.content_hash}\x1f{kind}\x1f{index}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


EMBED_BATCH = 64  # texts per embedding call, so long documents can report progress and stop early

# (stage, done, total): "sentences" once split, "embedding" after each batch. It may raise (a
# cancelled upload) - nothing has been written yet, so the index stays as it was.
StepProgress = Callable[[str, int, int], None]


def prepare(
    doc: Document,
    embedder: Embedder,
    settings: Settings,
    with_entities: bool = True,
    on_step: StepProgress | None = None,
) -> PreparedDocument:
    """Split, annotate, chunk and embed one document (pure apart from the models)."""
    sentences = split_sentences(doc.text, doc.doc_id)
    if not sentences:
        raise IngestError(doc.source or doc.doc_id, "has no sentences to index")
    if on_step:
        on_step("sentences", 0, len(sentences))
    if with_entities:
        from ingest.annotate import annotate

        sentences = annotate(doc.text, sentences)
    chunks = make_chunks(doc, sentences, settings.chunk_sentences, settings.chunk_overlap)
    texts = [s.text for s in sentences] + [c.text for c in chunks]
    if on_step is None:
        vectors = embedder.embed(texts)
    else:
        parts = []
        for i in range(0, len(texts), EMBED_BATCH):
            parts.append(embedder.embed(texts[i : i + EMBED_BATCH]))
            on_step("embedding", min(i + EMBED_BATCH, len(texts)), len(texts))
        vectors = np.vstack(parts)
    return PreparedDocument(doc, sentences, chunks, vectors[: len(sentences)], vectors[len(sentences) :])


def _nodes(p: PreparedDocument) -> tuple[list[Any], list[Any], list[Any]]:
    """llama-index ``TextNode``s for the three collections, each linked to its document."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    doc = p.document
    source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)}
    base = {"source": doc.source, "content_hash": doc.content_hash}

    def span_node(
        kind: str, index: int, text: str, vec: np.ndarray, start: int, end: int, **meta: Any
    ) -> Any:
        """A node for an exact span of the document (a sentence or a chunk)."""
        return TextNode(
            id_=_node_id(doc, kind, index),
            text=text,
            embedding=vec.tolist(),
            relationships=dict(source),
            start_char_idx=start,
            end_char_idx=end,
            metadata={**base, "start": start, "end": end, **meta},
        )

    sent_nodes = [
        span_node(
            "s",
            s.sentence_id,
            s.text,
            v,
            s.start,
            s.end,
            sentence_id=s.sentence_id,
            paragraph=s.paragraph,
            is_heading=s.is_heading,
            entities=entities_to_json(s.entities),
        )
        for s, v in zip(p.sentences, p.sentence_vectors, strict=True)
    ]
    chunk_nodes = [
        span_node(
            "c",
            c.chunk_id,
            c.text,
            v,
            c.start,
            c.end,
            chunk_id=c.chunk_id,
            sentence_ids=",".join(map(str, c.sentence_ids)),
        )
        for c, v in zip(p.chunks, p.chunk_vectors, strict=True)
    ]
    doc_vec = p.sentence_vectors.mean(0)
    doc_vec = doc_vec / max(float(np.linalg.norm(doc_vec)), 1e-12)
    doc_node = TextNode(
        id_=_node_id(doc, "d", 0),
        text=doc.text,
        embedding=doc_vec.tolist(),
        relationships=dict(source),
        metadata={
            **base,
            "title": doc.title,
            "sentences": len(p.sentences),
            "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    for n in (*sent_nodes, *chunk_nodes, doc_node):
        # Keep the stored metadata small: the node JSON need not repeat these for embedding.
        n.excluded_embed_metadata_keys = list(n.metadata)
        n.excluded_llm_metadata_keys = list(n.metadata)
    return sent_nodes, chunk_nodes, [doc_node]


class Ingestor:
    """Writes documents into the index; one instance reuses its Chroma client and model."""

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
        self._opened: tuple[Any, Any, Any] | None = None
        self.with_entities = with_entities

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from assistant.embedder import SentenceTransformerEmbedder

            self._embedder = SentenceTransformerEmbedder(self.settings.resolved_model_path())
        return self._embedder

    def _stores(self) -> tuple[Any, Any, Any]:
        """(sentences, chunks, documents) vector stores, opened once per ``Ingestor``."""
        if self._opened is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            if self._client is None:
                self._client = open_client(self.settings)
            cols = get_collections(self._client, self.settings, create=True)
            self._opened = tuple(ChromaVectorStore(chroma_collection=c) for c in cols)
        return self._opened

    def stored_hash(self, doc_id: str) -> str | None:
        """The content hash the index holds for ``doc_id`` (None when absent)."""
        _s, _c, docs = self._stores()
        got = docs._collection.get(where={"document_id": doc_id}, include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("content_hash")) if metas else None

    def ingest_documents(
        self,
        documents: Iterable[Document],
        progress: Callable[[str], None] | None = None,
        on_step: StepProgress | None = None,
    ) -> IngestReport:
        """Add or replace ``documents``; unchanged ones are skipped."""
        report = IngestReport()
        t0 = time.perf_counter()
        sent_store, chunk_store, doc_store = self._stores()
        for doc in documents:
            if progress:
                progress(doc.doc_id)
            old = self.stored_hash(doc.doc_id)
            if old == doc.content_hash:
                report.unchanged.append(doc.doc_id)
                continue
            try:
                prepared = prepare(doc, self.embedder, self.settings, self.with_entities, on_step)
            except IngestError as exc:
                report.errors.append(exc)
                continue
            sent_nodes, chunk_nodes, doc_nodes = _nodes(prepared)
            for store in (sent_store, chunk_store, doc_store):
                store.delete(doc.doc_id)
            sent_store.add(sent_nodes)
            chunk_store.add(chunk_nodes)
            doc_store.add(doc_nodes)
            (report.replaced if old else report.added).append(doc.doc_id)
            report.sentences += len(prepared.sentences)
            report.chunks += len(prepared.chunks)
        report.seconds = time.perf_counter() - t0
        return report

    def ingest_paths(self, paths: list[Path], progress: Callable[[str], None] | None = None) -> IngestReport:
        """Read every file first (errors are collected by name), then write the good ones."""
        t0 = time.perf_counter()
        docs: list[Document] = []
        errors: list[IngestError] = []
        for path in collect_files(paths):
            try:
                docs.append(load_file(path, self.settings.max_file_bytes))
            except IngestError as exc:
                errors.append(exc)
        report = self.ingest_documents(docs, progress) if docs else IngestReport()
        report.errors = errors + report.errors
        report.seconds = time.perf_counter() - t0
        return report

    def ingest_upload(self, name: str, data: bytes) -> IngestReport:
        """Ingest bytes that came from the web page under the file name ``name``."""
        try:
            doc = load_bytes(data, Path(Path(name).name), self.settings.max_file_bytes)
        except IngestError as exc:
            return IngestReport(errors=[exc])
        return self.ingest_documents([doc])

    def delete(self, doc_id: str) -> None:
        """Remove a document and all its rows."""
        for store in self._stores():
            store.delete(doc_id)

    def ingested_at(self) -> dict[str, str]:
        """When each stored document was (last) ingested, as ISO time, by document id."""
        _s, _c, docs = self._stores()
        metas = docs._collection.get(include=["metadatas"]).get("metadatas") or []
        return {str(m.get("document_id") or m.get("doc_id")): str(m.get("ingested_at", "")) for m in metas}

    def counts(self) -> dict[str, int]:
        """Rows per collection: sentences, chunks, documents."""
        s, c, d = self._stores()
        return {
            "sentences": s._collection.count(),
            "chunks": c._collection.count(),
            "documents": d._collection.count(),
        }
