"""The baseline of ``eval/bench_scale.py``: stock llama-index ingest of the same files.

``SimpleDirectoryReader -> VectorStoreIndex.from_documents -> ChromaVectorStore``, with
llama-index's default node parser (1,024-token chunks) and the same packaged MiniLM through
sentence-transformers — what a team gets from the llama-index tutorial, on the same model.

MiniLM reads at most 256 word pieces, so the default 1,024-token chunks are embedded only up
to their 256th word piece: the rest of each chunk is stored but not searchable by meaning.
``embedded_share`` measures how much of the text the vectors cover, and ``chunk_size`` runs the
same pipeline with chunks small enough that every word is embedded — the same work our ingest
does (every sentence embedded), side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr


class MiniLMEmbedding(BaseEmbedding):
    """llama-index embedding over the packaged all-MiniLM-L6-v2 (sentence-transformers)."""

    _model: Any = PrivateAttr()

    def __init__(self, model_path: str, **kwargs: Any) -> None:
        super().__init__(model_name="all-MiniLM-L6-v2", embed_batch_size=64, **kwargs)
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu")

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return self._model.encode(texts, normalize_embeddings=True, show_progress_bar=False).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)


def load_model(model_path: str) -> MiniLMEmbedding:
    return MiniLMEmbedding(model_path)


def ingest(folder: Path, index_dir: Path, embed_model: MiniLMEmbedding, chunk_size: int | None = None) -> int:
    """Ingest every file of ``folder`` the stock way; returns the number of nodes written.
    ``chunk_size`` (tokens): llama-index's ``SentenceSplitter`` with that size instead of the
    default parser."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    docs = SimpleDirectoryReader(str(folder), recursive=True).load_data()
    client = chromadb.PersistentClient(path=str(index_dir),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    col = client.get_or_create_collection("stock", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=col))
    extra: dict[str, Any] = {}
    if chunk_size:
        from llama_index.core.node_parser import SentenceSplitter

        extra["transformations"] = [SentenceSplitter(chunk_size=chunk_size, chunk_overlap=20)]
    VectorStoreIndex.from_documents(docs, storage_context=storage, embed_model=embed_model, **extra)
    return col.count()


def embedded_share(index_dir: Path, embed_model: MiniLMEmbedding) -> float:
    """Share of the stored nodes' word pieces that their vectors cover (MiniLM truncates each
    node at ``max_seq_length``): 1.0 when every word was embedded."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    client = chromadb.PersistentClient(path=str(index_dir), settings=settings)
    texts = client.get_collection("stock").get(include=["documents"])["documents"] or []
    st = embed_model._model
    limit = int(st.max_seq_length) - 2  # [CLS] and [SEP]
    counts = [len(ids) for ids in st.tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []
    total = sum(counts)
    return sum(min(n, limit) for n in counts) / total if total else 1.0
