"""Issue #13 (scale): dense search over the IVF index (``assistant.retrieval.ivf``) above a size threshold.

With every cluster probed it must rank exactly like scoring every row; with fewer, the rows it
returns carry the scores the full pass gives them; below the threshold nothing changes, and a
document filter that leaves few rows is scored exactly. "The same score" is up to the last bits
of float32: BLAS sums a dot product in an order that depends on the row's memory alignment, so
a row scored in a block of candidates can differ from the full matrix product by ~1e-7.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from assistant.core.types import Sentence
from assistant.retrieval.ivf import IVFIndex, build, n_lists, write_ivf
from assistant.retrieval.retrieve import SentenceRetriever

WORDS = [f"w{i}" for i in range(80)] + ["paris", "troops", "oil", "meeting", "bridge"]
QUERIES = ["paris meeting", "troops oil w3", "bridge w17 w40", "w5", "nothing here at all"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """600 sentences in 12 documents of random words, their vectors clustered (so that an IVF
    index has structure to find), and a saved IVF index."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(15, 384))
    sentences, vectors = [], []
    for i in range(600):
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 10))))
        sentences.append(Sentence(f"d{i // 50:02d}.txt", i % 50, text, 0, len(text)))
        vectors.append(centres[i % 15] + 0.4 * rng.normal(size=384))
    emb = np.asarray(vectors, dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    folder = tmp_path_factory.mktemp("ivf")
    write_ivf(folder, emb)
    return {"sentences": sentences, "emb": emb, "ivf": folder}


class _Embedder:
    """Query vectors: a fixed random unit vector per text (close to some clusters, not all)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        out = []
        for t in texts:
            v = np.random.default_rng(int(hashlib.md5(t.encode()).hexdigest()[:8], 16)).normal(size=384)
            out.append(v / np.linalg.norm(v))
        return np.asarray(out, dtype=np.float32)


def _same(a: Any, b: Any) -> bool:
    return bool(np.allclose(a, b, rtol=0, atol=1e-6))


def _retriever(c: dict[str, Any], **kw: Any) -> SentenceRetriever:
    return SentenceRetriever(c["sentences"], c["emb"], _Embedder(), ivf_dir=c["ivf"], **kw)


def test_ivf_build_is_deterministic_and_covers_every_row(corpus: dict[str, Any]) -> None:
    c1, o1, off1 = build(corpus["emb"])
    c2, o2, off2 = build(corpus["emb"])
    assert np.array_equal(c1, c2) and np.array_equal(o1, o2) and np.array_equal(off1, off2)
    assert len(c1) == n_lists(600) and off1[-1] == 600
    assert sorted(o1.tolist()) == list(range(600))
    ivf = IVFIndex(corpus["ivf"])
    assert sorted(ivf.probe(corpus["emb"][0], ivf.lists).tolist()) == list(range(600))
    assert 0 < len(ivf.probe(corpus["emb"][0], 2)) < 600
    for rows in (np.array([5, 4, 599, 0, 300, 301, 302]), ivf.probe(corpus["emb"][9], 3), np.arange(600)):
        assert np.array_equal(ivf.vectors(rows), corpus["emb"][rows])
        q = corpus["emb"][1]
        assert _same(ivf.dots(rows, [q])[0], corpus["emb"][rows] @ q)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("context", ["", "troops w9"])
def test_every_cluster_probed_ranks_exactly_like_the_full_pass(
    corpus: dict[str, Any], query: str, context: str
) -> None:
    exact = _retriever(corpus, ann_min_sentences=10**9)
    ann = _retriever(corpus, ann_min_sentences=100, ann_nprobe=10**6)
    assert ann._ivf is not None and exact._ivf is None
    rng = np.random.default_rng(len(query))
    allowed = rng.random(600) < 0.7
    for mask in (None, allowed):
        for k in (1, 12, 24, 700):
            o1, f1, d1 = exact.top(query, k, allowed=mask, context=context)
            o2, f2, d2 = ann.top(query, k, allowed=mask, context=context)
            assert o1 == o2, (query, k)
            assert _same(f1[o1], f2[o2]) and _same(d1[o1], d2[o2])
        hits = [[h.index for h in r.search(query, 12, mask)] for r in (exact, ann)]
        assert hits[0] == hits[1]


@pytest.mark.parametrize("query", QUERIES)
def test_few_clusters_give_exact_scores_for_what_they_return(corpus: dict[str, Any], query: str) -> None:
    exact = _retriever(corpus, ann_min_sentences=10**9)
    ann = _retriever(corpus, ann_min_sentences=100, ann_nprobe=2, ann_bm25_candidates=5)
    include = [3, 599]
    f_all, d_all, _b = exact.score_all(query)
    order, fused, dense = ann.top(query, 12, include=include)
    assert order and len(order) <= 12
    for i in [*order, *include]:
        assert _same(fused[i], f_all[i]) and _same(dense[i], d_all[i])
    assert [fused[i] for i in order] == sorted((fused[i] for i in order), reverse=True)


def test_a_filter_that_leaves_few_rows_is_scored_exactly(corpus: dict[str, Any]) -> None:
    exact = _retriever(corpus, ann_min_sentences=10**9)
    ann = _retriever(corpus, ann_min_sentences=100, ann_nprobe=1, ann_bm25_candidates=0)
    allowed = np.zeros(600, dtype=bool)
    allowed[50:100] = True  # one document: 50 rows, under the threshold
    for q in QUERIES:
        o1, f1, _d1 = exact.top(q, 12, allowed=allowed)
        o2, f2, _d2 = ann.top(q, 12, allowed=allowed)
        assert o1 == o2 and _same(f1[o1], f2[o2])


def test_below_the_threshold_nothing_changes(corpus: dict[str, Any]) -> None:
    small = _retriever(corpus, ann_min_sentences=601, ann_nprobe=1)
    assert small._ivf is None  # the index is not even opened
    o, f, _d = small.top("paris meeting", 12)
    assert np.isfinite(f).all() and len(o) == 12
