"""Chroma access: the embedded PersistentClient, or a Chroma server when CHROMA_HOST is set.

Three collections per index (names from ``Settings``): sentences (what the answerer cites),
chunks (retrieval context for LLM backends) and documents (full text, so every citation can
be checked against ``document.text[start:end]``). We always pass our own embeddings, so
Chroma's default embedding function (which would download a model) is never used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.errors import IndexCorruptError, IndexMissingError
from assistant.settings import Settings
from assistant.types import Document, Entity, Sentence

SCHEMA_VERSION = 1
MODEL_NAME = "all-MiniLM-L6-v2"
COLLECTION_METADATA = {"hnsw:space": "cosine", "schema": SCHEMA_VERSION, "model": MODEL_NAME}


def open_client(settings: Settings) -> Any:
    """A chromadb client with telemetry off; HttpClient when ``CHROMA_HOST`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def get_collections(client: Any, settings: Settings, create: bool) -> tuple[Any, Any, Any]:
    """(sentences, chunks, documents) collections; missing ones are created only if asked."""
    names = (settings.sentences_collection, settings.chunks_collection, settings.documents_collection)
    if create:
        return tuple(
            client.get_or_create_collection(n, embedding_function=None, metadata=COLLECTION_METADATA)
            for n in names
        )
    existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    missing = [n for n in names if n not in existing]
    if missing:
        raise IndexMissingError(
            f"no index at {settings.index_dir} (missing collections {missing}); "
            "build it with: python -m ingest data/"
        )
    cols = tuple(client.get_collection(n, embedding_function=None) for n in names)
    for col in cols:
        meta = col.metadata or {}
        if meta.get("model", MODEL_NAME) != MODEL_NAME or int(meta.get("schema", 1)) != SCHEMA_VERSION:
            raise IndexCorruptError(
                f"collection {col.name!r} was built with model={meta.get('model')!r} "
                f"schema={meta.get('schema')!r}; rebuild it: "
                f"rm -r {settings.index_dir} && python -m ingest data/"
            )
    return cols


def entities_to_json(entities: tuple[Entity, ...]) -> str:
    return json.dumps([[e.text, e.label, e.start, e.end] for e in entities], ensure_ascii=False)


def entities_from_json(raw: str | None) -> tuple[Entity, ...]:
    if not raw:
        return ()
    return tuple(Entity(text=t, label=lab, start=int(s), end=int(e)) for t, lab, s, e in json.loads(raw))


@dataclass
class IndexSnapshot:
    """Everything the answerer needs, read once: documents, sentences and their vectors."""

    documents: dict[str, Document]
    sentences: list[Sentence]
    embeddings: np.ndarray  # (n_sentences, dim), row i belongs to sentences[i]


def read_snapshot(settings: Settings, client: Any | None = None) -> IndexSnapshot:
    """Load the whole index into memory, ordered by (doc_id, sentence_id).

    Raises ``IndexMissingError`` when nothing was ingested and ``IndexCorruptError`` when
    the stored rows are unreadable or disagree with their documents.
    """
    if client is None and not settings.chroma_host and not (settings.index_dir / "chroma.sqlite3").exists():
        # Checked before opening: PersistentClient would create an empty index as a side effect.
        raise IndexMissingError(f"no index at {settings.index_dir}; build it with: python -m ingest data/")
    try:
        client = client or open_client(settings)
        sent_col, _chunks, doc_col = get_collections(client, settings, create=False)
        docs_raw = doc_col.get(include=["documents", "metadatas"])
        sents_raw = sent_col.get(include=["documents", "metadatas", "embeddings"])
    except (IndexMissingError, IndexCorruptError):
        raise
    except Exception as exc:
        raise IndexCorruptError(
            f"cannot read the index at {settings.index_dir}: "
            f"{type(exc).__name__}: {exc}. Rebuild it: rm -r {settings.index_dir} "
            "&& python -m ingest data/"
        ) from exc
    documents: dict[str, Document] = {}
    for text, meta in zip(docs_raw["documents"] or [], docs_raw["metadatas"] or [], strict=True):
        doc_id = str(meta["doc_id"])
        documents[doc_id] = Document(
            doc_id=doc_id,
            text=text or "",
            source=str(meta.get("source", "")),
            content_hash=str(meta.get("content_hash", "")),
            title=str(meta.get("title", doc_id)),
        )
    rows: list[tuple[Sentence, np.ndarray]] = []
    embeddings = sents_raw.get("embeddings")
    if embeddings is None:
        embeddings = []
    for text, meta, emb in zip(
        sents_raw["documents"] or [], sents_raw["metadatas"] or [], embeddings, strict=True
    ):
        doc_id = str(meta["doc_id"])
        s = Sentence(
            doc_id=doc_id,
            sentence_id=int(meta["sentence_id"]),
            text=text or "",
            start=int(meta["start"]),
            end=int(meta["end"]),
            paragraph=int(meta.get("paragraph", 0)),
            is_heading=bool(meta.get("is_heading", False)),
            entities=entities_from_json(meta.get("entities")),
        )
        doc = documents.get(doc_id)
        if doc is None or doc.text[s.start : s.end] != s.text:
            raise IndexCorruptError(
                f"sentence {doc_id}#{s.sentence_id} does not match its document; "
                f"rebuild the index: rm -r {settings.index_dir} "
                "&& python -m ingest data/"
            )
        rows.append((s, np.asarray(emb, dtype=np.float32)))
    rows.sort(key=lambda r: r[0].key)
    sentences = [r[0] for r in rows]
    matrix = np.vstack([r[1] for r in rows]) if rows else np.zeros((0, 384), dtype=np.float32)
    return IndexSnapshot(documents=documents, sentences=sentences, embeddings=matrix)
