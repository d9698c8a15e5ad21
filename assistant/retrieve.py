"""Hybrid sentence retrieval: BM25 over stemmed terms + dense MiniLM cosine, fused.

Why sentences: the product cites sentences, so it ranks them directly; neighbours are added
later as context. Why hybrid: BM25 catches rare exact terms (names, figures) that MiniLM
blurs; MiniLM catches paraphrases with no shared words. The fusion (weighted sum of
per-query min-max-normalised scores, or reciprocal rank fusion) is chosen by measurement on
the eval set (see README, "Retrieval").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from assistant.embedder import Embedder
from assistant.text import content_terms
from assistant.types import Sentence


@dataclass(frozen=True)
class Hit:
    """A scored sentence: ``index`` is its row in the retriever's sentence list."""

    index: int
    sentence: Sentence
    score: float
    dense: float
    bm25: float


def _minmax(x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    return np.zeros_like(x) if hi - lo < 1e-9 else (x - lo) / (hi - lo)


def rrf(rank_lists: list[np.ndarray], k: int = 60, weights: list[float] | None = None) -> np.ndarray:
    """Reciprocal rank fusion (Cormack et al., 2009): sum of w / (k + rank) per list."""
    n = len(rank_lists[0])
    out = np.zeros(n, dtype=np.float64)
    for li, scores in enumerate(rank_lists):
        order = np.argsort(-scores, kind="stable")
        ranks = np.empty(n, dtype=np.float64)
        ranks[order] = np.arange(1, n + 1)
        out += (weights[li] if weights else 1.0) / (k + ranks)
    return out


class SentenceRetriever:
    """Scores every indexed sentence for a query (BM25 + dense) and returns the top ones."""

    def __init__(
        self,
        sentences: list[Sentence],
        embeddings: np.ndarray,
        embedder: Embedder,
        dense_weight: float = 1.0,
        bm25_weight: float = 1.0,
        fusion: str = "weighted",
        rrf_k: int = 60,
    ) -> None:
        import bm25s

        if fusion not in ("weighted", "rrf"):
            raise ValueError(f"fusion {fusion!r} is not 'weighted' or 'rrf' (ASSISTANT_FUSION)")
        self.sentences = sentences
        self.embeddings = embeddings.astype(np.float32)
        self.embedder = embedder
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.sentence_terms = [content_terms(s.text) for s in sentences]  # shared with the answerer
        corpus = [terms or ["\x00empty"] for terms in self.sentence_terms]
        self._bm25 = bm25s.BM25()
        if sentences:
            self._bm25.index(corpus, show_progress=False)
        self._vocab = set(t for doc in corpus for t in doc)
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    def embed_query(self, query: str) -> np.ndarray:
        """Embed ``query``; recent queries are cached (follow-ups and retries repeat them)."""
        with self._cache_lock:
            hit = self._cache.get(query)
        if hit is not None:
            return hit
        vec = self.embedder.embed([query])[0]
        with self._cache_lock:
            self._cache[query] = vec
            while len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
        return vec

    def score_all(
        self,
        query: str,
        query_vec: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
        expansion: tuple[str, ...] = (),
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fused, dense, bm25) scores for every sentence; ``allowed`` masks documents;
        ``expansion``: extra BM25 terms (synonyms of question words the documents lack)."""
        n = len(self.sentences)
        if n == 0:
            z = np.zeros(0)
            return z, z, z
        qv = self.embed_query(query) if query_vec is None else query_vec
        dense = self.embeddings @ qv
        terms = [t for t in [*content_terms(query), *expansion] if t in self._vocab]
        bm25 = np.asarray(self._bm25.get_scores(terms), dtype=np.float64) if terms else np.zeros(n)
        if self.fusion == "rrf":
            fused = rrf([dense, bm25], self.rrf_k, [self.dense_weight, self.bm25_weight])
        else:
            # Dense cosine kept on its own scale (it carries absolute relevance); BM25 squashed
            # to [0, 1] per query, since its scale depends on the query's length.
            fused = self.dense_weight * dense + self.bm25_weight * 0.5 * _minmax(bm25)
        if allowed is not None:
            fused = np.where(allowed, fused, -np.inf)
        return fused, dense, bm25

    def search(self, query: str, k: int = 8, allowed: np.ndarray | None = None) -> list[Hit]:
        fused, dense, bm25 = self.score_all(query, allowed=allowed)
        order = np.argsort(-fused, kind="stable")[:k]
        return [
            Hit(int(i), self.sentences[int(i)], float(fused[i]), float(dense[i]), float(bm25[i]))
            for i in order
            if np.isfinite(fused[i])
        ]
