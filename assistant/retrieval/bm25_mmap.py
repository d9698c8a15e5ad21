"""Score a query against a BM25 index that bm25s saved, without importing bm25s.

Why: importing bm25s pulls in SciPy (0.6 s on a quiet machine, 3 s on a busy one), which
was the largest part of a fresh process's first answer. The saved index is three arrays of a
CSC matrix (precomputed per-term scores) plus a vocabulary; scoring a query is summing the
columns of its terms. This does exactly what ``bm25s.BM25.get_scores`` does for the methods
that need no non-occurrence term (``lucene``, ``robertson``, ``atire``): the same float32
sums in the same order (checked by ``tests/retrieval/test_retrieve_top.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SUPPORTED_METHODS = ("lucene", "robertson", "atire")
# The one term of a sentence that has none: bm25s needs a token per document, and the
# follow-up lookup finds such rows by it (``followup_lookup``). Cache and retriever share it.
EMPTY_TERM = "\x00empty"


class SavedBM25:
    """A memory-mapped bm25s index: ``get_scores(tokens)`` and ``vocab_dict``."""

    def __init__(self, folder: Path) -> None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in SUPPORTED_METHODS:
            raise ValueError(f"BM25 method {params.get('method')!r} needs bm25s itself")
        self.num_docs = int(params["num_docs"])
        self.dtype = np.dtype(params.get("dtype", "float32"))
        vocab = (folder / "vocab.index.json").read_text(encoding="utf-8")
        self.vocab_dict: dict[str, int] = json.loads(vocab)
        self._data = np.load(folder / "data.csc.index.npy", mmap_mode="r").view(np.ndarray)
        self._indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r").view(np.ndarray)
        self._indptr = np.load(folder / "indptr.csc.index.npy", mmap_mode="r").view(np.ndarray)

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for ``tokens`` (unknown tokens are skipped)."""
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        for t in tokens:
            tid = self.vocab_dict.get(t)
            if tid is None:
                continue
            a, b = int(self._indptr[tid]), int(self._indptr[tid + 1])
            np.add.at(scores, self._indices[a:b], self._data[a:b])
        return scores

    def rows_holding(self, tokens: set[str]) -> np.ndarray:
        """For every document, how many of the distinct ``tokens`` it holds (from the postings)."""
        ids = [tid for t in tokens if (tid := self.vocab_dict.get(t)) is not None]
        parts = [self._indices[int(self._indptr[i]) : int(self._indptr[i + 1])] for i in ids]
        rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return np.bincount(rows, minlength=self.num_docs)

    def terms_per_row(self) -> np.ndarray:
        """How many distinct terms each document holds (one posting per document and term)."""
        return np.bincount(self._indices, minlength=self.num_docs)
