"""Hybrid sentence retrieval: BM25 over stemmed terms + dense MiniLM cosine, fused.

Why sentences: the product cites sentences, so it ranks them directly; neighbours are added
later as context. Why hybrid: BM25 catches rare exact terms (names, figures) that MiniLM
blurs; MiniLM catches paraphrases with no shared words. The fusion (weighted sum of
per-query min-max-normalised scores, or reciprocal rank fusion) is chosen by measurement on
the eval set (see docs/architecture.md, "How an answer is made", step 2).

Scale: the BM25 index and each sentence's terms can come from the index's query cache
(``bm25_dir``, ``terms``: memory-mapped, nothing re-tokenised at start-up); ``top`` picks the
k best with ``argpartition`` (linear) instead of sorting every sentence; BLAS runs on one
thread around the question path (``single_blas_thread``), whatever numpy was imported with.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.types import Sentence
from assistant.language.text import content_terms
from assistant.retrieval.embedder import Embedder

_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit: Any = None


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """One BLAS thread while any question is being answered (threadpoolctl, process-wide).

    Why: a question's matrices are tiny, so BLAS threads only add hand-off cost, and on a busy
    2-core machine they made question embedding 10-200x slower. ``OPENBLAS_NUM_THREADS`` only
    works when set before numpy is imported; this works whatever the import order. Counted,
    so concurrent questions share one limit and the last one out restores the original.
    """
    global _blas_users, _blas_limit
    with _blas_lock:
        if _blas_users == 0:
            try:
                _blas_limit = _controller().limit(limits=1, user_api="blas")
            except ImportError:  # pragma: no cover - threadpoolctl is a dependency
                _blas_limit = None
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None


_tp_controller: Any = None


def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, inspected once (34 us per limit after)."""
    global _tp_controller
    if _tp_controller is None:
        from threadpoolctl import ThreadpoolController

        _tp_controller = ThreadpoolController()
    return _tp_controller


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
        sentences: Sequence[Sentence],
        embeddings: np.ndarray,
        embedder: Embedder,
        dense_weight: float = 1.0,
        bm25_weight: float = 1.0,
        fusion: str = "weighted",
        rrf_k: int = 60,
        terms: Sequence[list[str]] | None = None,
        bm25_dir: Path | None = None,
        ivf_dir: Path | None = None,
        ann_min_sentences: int = 20_000,
        ann_nprobe: int = 48,
        ann_bm25_candidates: int = 200,
    ) -> None:
        """``terms`` / ``bm25_dir``: each sentence's terms and the saved BM25 index from the
        query cache; without them both are computed here (a retriever over plain lists: its unit tests).
        ``ivf_dir``: the cache's dense IVF index, used by ``top``/``search`` from
        ``ann_min_sentences`` sentences on (``assistant.core.settings`` says what each knob does)."""
        if fusion not in ("weighted", "rrf"):
            raise ValueError(f"fusion {fusion!r} is not 'weighted' or 'rrf' (ASSISTANT_FUSION)")
        self.sentences = sentences
        # float32 already (a memory map stays one: no copy of the whole matrix at start-up)
        self.embeddings = embeddings if embeddings.dtype == np.float32 else embeddings.astype(np.float32)
        self.embedder = embedder
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.fusion = fusion
        self.rrf_k = rrf_k
        self._terms = terms
        self._bm25: Any = None
        if bm25_dir is not None:
            from assistant.retrieval.bm25_mmap import SavedBM25

            self._bm25 = SavedBM25(bm25_dir)  # no bm25s/SciPy import on the question path
        else:
            import bm25s

            from assistant.retrieval.bm25_mmap import EMPTY_TERM

            corpus = [t or [EMPTY_TERM] for t in self.sentence_terms]
            self._bm25 = bm25s.BM25()
            if sentences:
                self._bm25.index(corpus, show_progress=False)
        self._vocab: Any = getattr(self._bm25, "vocab_dict", None) or {}
        self.ann_min_sentences = ann_min_sentences
        self.ann_nprobe = ann_nprobe
        self.ann_bm25_candidates = ann_bm25_candidates
        self._ivf: Any = None
        if ivf_dir is not None and len(sentences) >= ann_min_sentences:
            from assistant.retrieval.ivf import IVFIndex

            self._ivf = IVFIndex(ivf_dir)
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()

    @property
    def bm25(self) -> Any:
        """The BM25 index (``SavedBM25`` over a query cache, else ``bm25s.BM25``); the engine hands
        it to ``followup_lookup`` on a large corpus."""
        return self._bm25

    @cached_property
    def sentence_terms(self) -> Sequence[list[str]]:
        """Each sentence's ``content_terms`` (shared with the answerer's support scoring)."""
        if self._terms is not None:
            return self._terms
        return [content_terms(s.text) for s in self.sentences]

    def embed_query(self, query: str) -> np.ndarray:
        """Embed ``query``; recent queries are cached (follow-ups and retries repeat them)."""
        with self._cache_lock:
            hit = self._cache.get(query)
        if hit is not None:
            return hit
        with single_blas_thread():
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
        with single_blas_thread():
            dense = self.embeddings @ qv
        bm25 = self._bm25_scores(query, expansion)
        if self.fusion == "rrf":
            fused = rrf([dense, bm25], self.rrf_k, [self.dense_weight, self.bm25_weight])
        else:
            # Dense cosine kept on its own scale (it carries absolute relevance); BM25 squashed
            # to [0, 1] per query, since its scale depends on the query's length.
            fused = self.dense_weight * dense + self.bm25_weight * 0.5 * _minmax(bm25)
        if allowed is not None:
            fused = np.where(allowed, fused, -np.inf)
        return fused, dense, bm25

    def _bm25_scores(self, query: str, expansion: tuple[str, ...] = ()) -> np.ndarray:
        n = len(self.sentences)
        terms = [t for t in [*content_terms(query), *expansion] if t in self._vocab]
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float64) if terms else np.zeros(n)

    def top(
        self,
        query: str,
        k: int,
        allowed: np.ndarray | None = None,
        expansion: tuple[str, ...] = (),
        context: str = "",
        include: Sequence[int] = (),
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        """(indices of the ``k`` best sentences, fused, dense): the same rows, in the same
        order, as ``np.argsort(-fused, kind="stable")[:k]`` (ties by row), but linear time.
        ``context``: a follow-up's earlier topic, scored too at weight 0.8 (max of the two).

        Large corpora (``ann_min_sentences``) score only candidate rows (``_subset``); then
        ``fused``/``dense`` are filled for those and for ``include`` (rows the caller reads
        besides the top ones), -inf/0 elsewhere. Smaller ones score every row, as always."""
        if self._use_subset(allowed):
            queries = [(query, expansion, 1.0)] + ([(f"{query} {context}", (), 0.8)] if context else [])
            rows, fused_rows, dense_rows, _b = self._subset(queries, allowed, include)
            n = len(self.sentences)
            fused, dense = np.full(n, -np.inf), np.zeros(n, dtype=np.float32)
            fused[rows], dense[rows] = fused_rows, dense_rows
            return [int(rows[j]) for j in top_k(fused_rows, k)], fused, dense
        fused, dense, _bm25 = self.score_all(query, allowed=allowed, expansion=expansion)
        if context:
            f2, _d2, _b2 = self.score_all(f"{query} {context}", allowed=allowed)
            fused = np.maximum(fused, 0.8 * f2)
        return top_k(fused, k), fused, dense

    def search(self, query: str, k: int = 8, allowed: np.ndarray | None = None) -> list[Hit]:
        if self._use_subset(allowed):
            rows, fused_rows, dense_rows, bm25 = self._subset([(query, (), 1.0)], allowed, ())
            best = [(int(rows[j]), j) for j in top_k(fused_rows, k)]
            return [Hit(i, self.sentences[i], float(fused_rows[j]), float(dense_rows[j]), float(bm25[i]))
                    for i, j in best]
        fused, dense, bm25 = self.score_all(query, allowed=allowed)
        order = top_k(fused, k)
        return [Hit(i, self.sentences[i], float(fused[i]), float(dense[i]), float(bm25[i])) for i in order]

    # -- large corpora: exact scores for candidate rows only ----------------------------------------
    def _use_subset(self, allowed: np.ndarray | None) -> bool:
        """Candidate scoring applies from ``ann_min_sentences`` on, with weighted fusion (RRF
        ranks every row), and where there is an IVF index or a filter leaves few rows."""
        if self.fusion != "weighted" or len(self.sentences) < self.ann_min_sentences:
            return False
        return self._ivf is not None or (allowed is not None and self._few(allowed))

    def _few(self, allowed: np.ndarray) -> bool:
        return int(np.count_nonzero(allowed)) <= self.ann_min_sentences

    def _subset(
        self,
        queries: list[tuple[str, tuple[str, ...], float]],
        allowed: np.ndarray | None,
        include: Sequence[int],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows ascending, their fused scores, their dense scores of the first query, the first
        query's BM25 over all rows) for ``queries`` (text, expansion, weight; fused is the max of
        the weighted ones). Each row gets the arithmetic ``score_all`` gives it: BM25 is still
        computed for every row (sparse columns, well under a millisecond), so its min-max
        scaling is the same; only the dense products are limited to the candidates (a product
        may differ from the full matrix product's in the last float32 bit: BLAS sums in an
        order that depends on memory alignment; hence the exact path below the threshold)."""
        vecs = [self.embed_query(q) for q, _e, _w in queries]
        bm25s = [self._bm25_scores(q, e) for q, e, _w in queries]
        with single_blas_thread():  # the centroid product too: BLAS threads only add hand-off cost
            rows = self._candidates(vecs, bm25s, allowed, include)
            if self._ivf is not None:
                denses = self._ivf.dots(rows, vecs)
            else:
                block = np.asarray(self.embeddings[rows], dtype=np.float32)
                denses = [block @ v for v in vecs]
        fused_rows: np.ndarray | None = None
        for (_q, _e, weight), d, b in zip(queries, denses, bm25s, strict=True):
            scaled = _minmax(b)[rows]  # over every row, as ``score_all`` scales it
            f = self.dense_weight * d + self.bm25_weight * 0.5 * scaled
            if allowed is not None:
                f = np.where(allowed[rows], f, -np.inf)
            fused_rows = f if fused_rows is None else np.maximum(fused_rows, weight * f)
        assert fused_rows is not None
        return rows, fused_rows, denses[0], bm25s[0]

    def _candidates(
        self, vecs: list[np.ndarray], bm25s: list[np.ndarray], allowed: np.ndarray | None,
        include: Sequence[int],
    ) -> np.ndarray:
        """Rows to score: all allowed ones when a filter leaves few; else the rows of the
        nearest IVF clusters and BM25's best rows (of each query), within the filter; plus
        ``include``. More clusters are searched when a filter hides most rows."""
        n = len(self.sentences)
        if self._ivf is None or (allowed is not None and self._few(allowed)):
            rows = np.arange(n) if allowed is None else np.flatnonzero(allowed)
        else:
            share = 1.0 if allowed is None else max(1, int(np.count_nonzero(allowed))) / n
            nprobe = min(self._ivf.lists, math.ceil(self.ann_nprobe / share))
            parts = [self._ivf.probe(v, nprobe) for v in vecs]
            parts += [self._bm25_best(b, allowed) for b in bm25s]
            chosen = np.zeros(n, dtype=bool)  # a mark per row: cheaper than np.unique of the parts
            for part in parts:
                chosen[part] = True
            if allowed is not None:
                chosen &= allowed
            rows = np.flatnonzero(chosen)
        if len(include):
            rows = np.union1d(rows, np.asarray(include, dtype=np.int64))
        return rows.astype(np.int64, copy=False)

    def _bm25_best(self, bm25: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
        """Up to ``ann_bm25_candidates`` rows with the highest BM25 (rare exact terms that
        the dense clusters may miss)."""
        hits = np.flatnonzero(bm25)
        if allowed is not None:
            hits = hits[allowed[hits]]
        m = self.ann_bm25_candidates
        if len(hits) > m > 0:
            hits = hits[np.argpartition(-bm25[hits], m - 1)[:m]]
        return hits if m > 0 else hits[:0]


def top_k(scores: np.ndarray, k: int) -> list[int]:
    """Rows of the ``k`` highest finite scores, best first, ties by row: equal to
    ``[i for i in np.argsort(-scores, kind="stable")[:k] if np.isfinite(scores[i])]``."""
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    if k < n:
        kth = np.partition(scores, n - k)[n - k]  # the k-th largest value
        above = np.flatnonzero(scores > kth)
        ties = np.flatnonzero(scores == kth)[: k - len(above)]
        rows = np.concatenate([above, ties])
    else:
        rows = np.arange(n)
    rows = rows[np.lexsort((rows, -scores[rows]))][:k]
    return [int(i) for i in rows if np.isfinite(scores[i])]
