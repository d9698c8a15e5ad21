"""``top_k`` / ``SentenceRetriever.top``: the same rows, in the same order, as a full stable sort.

The answerer relied on ``np.argsort(-fused, kind="stable")[:k]``; the linear-time pick must
agree exactly, ties and masked (-inf) rows included, or answers would change with scale.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.core.types import Sentence
from assistant.retrieval.retrieve import SentenceRetriever, single_blas_thread, top_k


def _reference(scores: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k] if np.isfinite(scores[i])]


@pytest.mark.parametrize("seed", range(40))
def test_top_k_equals_a_stable_full_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    scores = np.round(rng.normal(size=n), int(rng.integers(0, 3)))  # rounding makes many ties
    scores[rng.random(n) < 0.2] = -np.inf
    for k in (0, 1, 5, 12, n - 1, n, n + 3):
        assert top_k(scores, k) == _reference(scores, k), (seed, k)


def test_top_matches_score_all_with_a_follow_up_context(fake_embedder) -> None:
    texts = ["Paris hosted the meeting.", "Troops will be sent by 26 countries.", "Oil sales rose.",
             "The meeting in Paris was long.", "Macron spoke about troops."]
    sents = [Sentence("d", i, t, 0, len(t)) for i, t in enumerate(texts)]
    r = SentenceRetriever(sents, fake_embedder.embed(texts), fake_embedder)
    order, fused, dense = r.top("Where was the meeting?", 3, context="troops Paris")
    f1, d1, _b = r.score_all("Where was the meeting?")
    f2, _d, _b = r.score_all("Where was the meeting? troops Paris")
    want = np.maximum(f1, 0.8 * f2)
    assert np.array_equal(fused, want) and np.array_equal(dense, d1)
    assert order == _reference(want, 3)


def test_single_blas_thread_limits_and_restores() -> None:
    from threadpoolctl import threadpool_info

    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    with single_blas_thread(), single_blas_thread():
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] == before


def test_saved_bm25_scores_exactly_like_bm25s(tmp_path) -> None:
    """The memory-mapped scorer (no bm25s import at question time) equals bm25s bit for bit."""
    import bm25s

    from assistant.retrieval.bm25_mmap import SavedBM25

    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(60)]
    corpus = [[str(w) for w in rng.choice(words, size=int(rng.integers(1, 12)))] for _ in range(300)]
    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    model.save(str(tmp_path / "bm25"), show_progress=False)
    saved = SavedBM25(tmp_path / "bm25")
    for _ in range(30):
        query = [str(w) for w in rng.choice(words, size=int(rng.integers(1, 6)))]
        assert np.array_equal(saved.get_scores(query), model.get_scores(query))
    assert saved.get_scores(["unknown"]).sum() == 0
