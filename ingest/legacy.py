"""The index of the previous version (schema 1: llama-index nodes): found, read, dropped.

Its own module because two places need it: the pipeline checks for it before adding
anything (an upload into an old index must not be left behind), and the repair upgrades it.
Only the stored documents of such an index matter; everything else is rebuilt from them.
"""

from __future__ import annotations

from typing import Any

from assistant.core.settings import Settings
from assistant.core.types import Document


def _collection_names(client: Any) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def has_legacy(client: Any, settings: Settings) -> bool:
    """Does the index still hold schema-1 collections (written by the previous version)?"""
    return settings.documents_collection in _collection_names(client)


def legacy_documents(client: Any, settings: Settings) -> list[Document]:
    """The documents of a schema-1 index (llama-index nodes), or [] when there is none."""
    if not has_legacy(client, settings):
        return []
    got = client.get_collection(settings.documents_collection, embedding_function=None).get(
        include=["documents", "metadatas"])
    docs = []
    for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
        doc_id = str(meta.get("doc_id") or meta.get("document_id"))
        docs.append(Document(doc_id, text or "", str(meta.get("source", "")),
                             str(meta.get("content_hash", "")), str(meta.get("title", doc_id))))
    return docs


def drop_legacy(client: Any, settings: Settings) -> None:
    """Delete the schema-1 collections (once their documents are in the current schema)."""
    names = _collection_names(client)
    for name in (settings.sentences_collection, settings.chunks_collection,
                 settings.documents_collection):
        if name in names:
            client.delete_collection(name)
