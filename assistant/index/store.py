"""Chroma access: the embedded PersistentClient, or a Chroma server when CHROMA_HOST is set.

Three collections per index (schema 2): sentences (vector + offsets + entities: the text is
*not* repeated, it is ``document.text[start:end]``), documents (full text, so every citation
can be checked) and a manifest (document -> content hash -> number of sentence rows). Row ids
are derived from (document, hash, sentence number), so the manifest names every row a
document owns; rows it does not name are orphans of an interrupted ingest, which readers
ignore and ``python -m ingest --repair`` deletes. We always pass our own embeddings, so
Chroma's default embedding function (which would download a model) is never used.

Errors are one line that names the index and says how to repair it, never to delete it:
an index may hold documents that exist nowhere else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from assistant.core.errors import IndexCorruptError, IndexMissingError, IndexUnreachableError
from assistant.core.settings import Settings
from assistant.core.types import Entity

SCHEMA_VERSION = 2
MODEL_NAME = "all-MiniLM-L6-v2"
COLLECTION_METADATA = {"hnsw:space": "cosine", "schema": SCHEMA_VERSION, "model": MODEL_NAME}
GENERATION_ID = "__generation__"  # manifest row whose value changes with every committed change


def repair_hint(settings: Settings) -> str:
    """The command that repairs an index in place (it keeps every stored document)."""
    where = "" if settings.chroma_host else f" --index-dir {settings.index_dir}"
    return f"python -m ingest --repair{where}"


def describe(settings: Settings) -> str:
    """Where the index lives, for messages."""
    if settings.chroma_host:
        return f"the Chroma server {settings.chroma_host}:{settings.chroma_port}"
    return str(settings.index_dir)


def open_client(settings: Settings) -> Any:
    """A chromadb client with telemetry off; HttpClient when ``CHROMA_HOST`` is set.

    Raises ``IndexUnreachableError`` for a server that does not answer and
    ``IndexCorruptError`` for an index folder that cannot be opened.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:
            raise IndexUnreachableError(
                f"the Chroma server {settings.chroma_host}:{settings.chroma_port} is unreachable "
                f"({_first_line(exc)}); start it or fix CHROMA_HOST/CHROMA_PORT"
            ) from exc
    path = settings.index_dir
    if path.exists() and not path.is_dir():
        raise IndexCorruptError(f"the index path {path} is a file, not a folder; set ASSISTANT_INDEX_DIR "
                                "(or --index-dir) to a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexCorruptError(
            f"cannot open the index at {path}: {_first_line(exc)}. It may hold documents that exist "
            f"nowhere else: do not delete it; move it aside (mv {path} {path}.broken), restore a backup "
            "or rebuild: python -m ingest data/ (and the files you uploaded)"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


@dataclass(frozen=True)
class Collections:
    """The three Chroma collections of one index."""

    sentences: Any
    documents: Any
    manifest: Any


def collection_names(settings: Settings) -> tuple[str, str, str]:
    """(sentences, documents, manifest) names of schema 2 (schema 1 used the plain names)."""
    p = settings.collection_prefix
    return f"{p}_sentences_v2", f"{p}_documents_v2", f"{p}_manifest_v2"


def get_collections(client: Any, settings: Settings, create: bool) -> Collections:
    """The index's collections; missing ones are created only if asked."""
    names = collection_names(settings)
    try:
        if create:
            return Collections(*(
                client.get_or_create_collection(n, embedding_function=None, metadata=COLLECTION_METADATA)
                for n in names
            ))
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    except Exception as exc:
        raise _unreadable(settings, exc) from exc
    missing = [n for n in names if n not in existing]
    if missing and settings.documents_collection in existing:
        raise IndexCorruptError(
            f"the index at {describe(settings)} was built by an older version (schema 1); upgrade it in "
            f"place, keeping every document: {repair_hint(settings)}"
        )
    if missing:
        raise IndexMissingError(
            f"no index at {describe(settings)} (missing collections {missing}); "
            "build it with: python -m ingest data/"
        )
    cols = Collections(*(client.get_collection(n, embedding_function=None) for n in names))
    for col in (cols.sentences, cols.documents, cols.manifest):
        meta = col.metadata or {}
        if meta.get("model", MODEL_NAME) != MODEL_NAME or int(meta.get("schema", 1)) != SCHEMA_VERSION:
            raise IndexCorruptError(
                f"collection {col.name!r} was built with model={meta.get('model')!r} "
                f"schema={meta.get('schema')!r}, not {MODEL_NAME} schema {SCHEMA_VERSION}; re-ingest your "
                f"files into a new index (--index-dir) or set ASSISTANT_MODEL_PATH to that model"
            )
    return cols


def _unreadable(settings: Settings, exc: BaseException) -> IndexCorruptError:
    return IndexCorruptError(
        f"cannot read the index at {describe(settings)}: {_first_line(exc)}. Try: {repair_hint(settings)} "
        "(it keeps every readable document; do not delete the index)"
    )


# -- row ids and the manifest -----------------------------------------------------------------------
def doc_key(doc_id: str, content_hash: str) -> str:
    """The id of one version of a document (its row in the documents collection)."""
    return hashlib.sha256(f"{doc_id}\x1f{content_hash}".encode()).hexdigest()[:32]


def sentence_row_ids(doc_id: str, content_hash: str, n: int) -> list[str]:
    """The ids of the ``n`` sentence rows of one version of a document."""
    key = doc_key(doc_id, content_hash)
    return [f"{key}:{i}" for i in range(n)]


def manifest_id(doc_id: str) -> str:
    return "m:" + hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class ManifestEntry:
    """What the index holds for one document: the current version (``content_hash`` and
    its sentence count; empty while only a pending version exists), a version being written
    (``pending``) and a replaced version whose rows are still to be deleted (``stale``)."""

    doc_id: str
    content_hash: str = ""
    sentences: int = 0
    pending: str = ""
    pending_sentences: int = 0
    stale: str = ""
    stale_sentences: int = 0

    def to_metadata(self) -> dict[str, Any]:
        return {"doc": self.doc_id, "h": self.content_hash, "n": self.sentences, "pend": self.pending,
                "pend_n": self.pending_sentences, "stale": self.stale, "stale_n": self.stale_sentences}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ManifestEntry:
        return cls(str(meta["doc"]), str(meta.get("h", "")), int(meta.get("n", 0)),
                   str(meta.get("pend", "")), int(meta.get("pend_n", 0)),
                   str(meta.get("stale", "")), int(meta.get("stale_n", 0)))


def read_manifest(manifest: Any, page: int = 5000) -> dict[str, ManifestEntry]:
    """Every document's manifest entry (paged, so a large index is never one giant reply)."""
    out: dict[str, ManifestEntry] = {}
    offset = 0
    while True:
        got = manifest.get(limit=page, offset=offset, include=["metadatas"])
        for row_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            if row_id != GENERATION_ID and meta:
                entry = ManifestEntry.from_metadata(meta)
                out[entry.doc_id] = entry
        if len(got["ids"]) < page:
            return out
        offset += page


def read_generation(manifest: Any) -> str:
    """The token of the last committed change ("" for an index never written)."""
    got = manifest.get(ids=[GENERATION_ID], include=["metadatas"])
    metas = got.get("metadatas") or []
    return str(metas[0].get("gen", "")) if metas and metas[0] else ""


def entities_to_json(entities: tuple[Entity, ...]) -> str:
    return json.dumps([[e.text, e.label, e.start, e.end] for e in entities], ensure_ascii=False)


def entities_from_json(raw: str | None) -> tuple[Entity, ...]:
    if not raw:
        return ()
    return tuple(Entity(text=t, label=lab, start=int(s), end=int(e)) for t, lab, s, e in json.loads(raw))
