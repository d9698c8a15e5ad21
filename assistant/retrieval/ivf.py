"""An inverted-file (IVF) index over the sentence vectors: which rows to score densely.

Why: scoring every sentence against the question vector was the largest per-question cost at
scale (29 ms of a 115 ms answer at 106k sentences, and it touches the whole 160 MB matrix).
Spherical k-means puts the vectors into about 4*sqrt(N) clusters when the cache is built; a
question scores the centroids, then only the rows of its ``nprobe`` nearest clusters (exactly;
``SentenceRetriever`` adds BM25's best rows). NumPy only, deterministic (fixed seed): no
chromadb import (seconds at start-up) and nothing to download. Files: ``centroids.npy``
(k x 384), ``order.npy`` (rows grouped by cluster, ascending within one), ``offsets.npy``
(k + 1: cluster c is ``order[offsets[c]:offsets[c + 1]]``) and ``vectors.f32``, the vectors
in that order. A question reads its clusters' vectors from ``vectors.f32`` with a few
``preadv`` calls (one per run of consecutive rows) instead of through a memory map: a cluster's
rows are scattered over the whole matrix, so mapped reads (and the kernel's fault-around) made
most of ``emb.npy`` resident after one question (155 of 160 MB at 106k sentences).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

SEED = 0
ITERATIONS = 8  # k-means rounds: the assignment barely moves after ~5 on MiniLM vectors
SAMPLE_PER_LIST = 64  # training rows per cluster (faiss uses 39-256); all rows when fewer
_CHUNK = 8192  # rows per assignment matmul (bounds the temporary score matrix)


def n_lists(n: int) -> int:
    """Clusters for ``n`` rows: ~4*sqrt(N) keeps both the centroid scan and a cluster small."""
    return max(1, min(n, round(4 * math.sqrt(n))))


def _assign(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of each row's nearest centroid by dot product (vectors are unit length)."""
    out = np.empty(len(vectors), dtype=np.int64)
    for a in range(0, len(vectors), _CHUNK):
        out[a : a + _CHUNK] = np.argmax(vectors[a : a + _CHUNK] @ centroids.T, axis=1)
    return out


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def build(vectors: np.ndarray, k: int | None = None, centroids: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centroids, order, offsets) of spherical k-means over ``vectors`` (float32, n x d);
    given ``centroids`` (an earlier index's), the rows are only assigned to them."""
    if centroids is None:
        centroids = _kmeans(vectors, n_lists(len(vectors)) if k is None else max(1, min(len(vectors), k)))
    k = len(centroids)
    assign = _assign(np.asarray(vectors, dtype=np.float32), centroids)
    order = np.argsort(assign, kind="stable").astype(np.int32)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(assign, minlength=k), out=offsets[1:])
    return centroids, order, offsets


def _kmeans(vectors: np.ndarray, k: int) -> np.ndarray:
    """``k`` centroids of spherical k-means over a sample of ``vectors`` (fixed seed)."""
    n = len(vectors)
    rng = np.random.default_rng(SEED)
    pick = np.sort(rng.choice(n, size=min(n, k * SAMPLE_PER_LIST), replace=False))
    sample = np.ascontiguousarray(vectors[pick], dtype=np.float32)
    centroids = sample[np.sort(rng.choice(len(sample), size=k, replace=False))].copy()
    for _ in range(ITERATIONS):
        assign = _assign(sample, centroids)
        by_cluster = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=k)
        filled = np.flatnonzero(counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[filled]
        sums = np.add.reduceat(sample[by_cluster], starts, axis=0)
        centroids[filled] = _normalise(sums).astype(np.float32)  # an empty cluster keeps its centroid
    return centroids


def write_ivf(folder: Path, vectors: np.ndarray, centroids: np.ndarray | None = None) -> None:
    """Build the index of ``vectors`` (over ``centroids`` when given) and save it into
    ``folder`` (created)."""
    centroids, order, offsets = build(vectors, centroids=centroids)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "centroids.npy", centroids)
    np.save(folder / "order.npy", order)
    np.save(folder / "offsets.npy", offsets)
    np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[order]).tofile(folder / "vectors.f32")


class IVFIndex:
    """A saved IVF index: ``probe(vector, nprobe)`` gives the rows of the nearest clusters,
    ``vectors(rows)`` their vectors."""

    def __init__(self, folder: Path) -> None:
        self.centroids = np.load(folder / "centroids.npy")  # small (k x 384): read, not mapped
        self._order = np.load(folder / "order.npy", mmap_mode="r").view(np.ndarray)
        self._offsets = np.load(folder / "offsets.npy")
        self._position = np.empty(len(self._order), dtype=np.int64)  # row -> place in vectors.f32
        self._position[self._order] = np.arange(len(self._order))
        self._row_bytes = self.centroids.shape[1] * 4
        self._fd = os.open(folder / "vectors.f32", os.O_RDONLY)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    @property
    def lists(self) -> int:
        return len(self.centroids)

    def probe(self, vector: np.ndarray, nprobe: int) -> np.ndarray:
        """Rows (int64, unsorted) of the ``nprobe`` clusters whose centroids are nearest."""
        k = self.lists
        if nprobe >= k:
            return np.asarray(self._order, dtype=np.int64)
        scores = self.centroids @ vector
        best = np.argpartition(-scores, nprobe - 1)[:nprobe]
        parts = [self._order[self._offsets[c] : self._offsets[c + 1]] for c in best.tolist()]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows`` (float32, in the order given)."""
        block, by_place = self._read(rows)
        out = np.empty_like(block)
        out[by_place] = block
        return out

    def dots(self, rows: np.ndarray, queries: list[np.ndarray]) -> list[np.ndarray]:
        """Each query vector's dot product with the vectors of ``rows`` (in the order given):
        computed in file order, so only the scores are put back in order, not the vectors."""
        block, by_place = self._read(rows)
        out = []
        for q in queries:
            scores = np.empty(len(rows), dtype=np.float32)
            scores[by_place] = block @ q
            out.append(scores)
        return out

    def _read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the vectors of ``rows`` in file order, the index into ``rows`` of each), read run
        by run; safe from several threads (each read names its offset)."""
        place = self._position[rows]
        by_place = np.argsort(place, kind="stable")
        sorted_place = place[by_place]
        block = np.empty((len(rows), self.centroids.shape[1]), dtype=np.float32)
        cuts = np.flatnonzero(np.diff(sorted_place) != 1) + 1
        for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(rows)], strict=True):
            if b <= a:
                continue
            want, at = (b - a) * self._row_bytes, int(sorted_place[a]) * self._row_bytes
            got = os.preadv(self._fd, [memoryview(block[a:b]).cast("B")], at)  # type: ignore[arg-type]
            if got != want:
                raise OSError(f"short read from the IVF vectors ({got} of {want} bytes): rebuild the cache")
        return block, by_place
