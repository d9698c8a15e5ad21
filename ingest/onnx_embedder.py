"""MiniLM for ingest through ONNX Runtime: the packaged weights exported once, then reused.

Why: ingest spends most of its time embedding sentences, and on these two cores the
sentence-transformers encode of the same network ran at 2-2.4x the wall time of ONNX Runtime
over the same weights (docs/measurements.md), with vectors equal to 1e-6 (cosine >= 0.999999
per sentence), so what the index stores does not change. Nothing is downloaded: the graph is
exported from the packaged ``model.safetensors`` with torch (installed for ingest anyway) the
first time it is needed and cached in ``Settings.onnx_dir`` (``build/onnx``, never in git: 90 MB).

``embed`` sorts the texts by token length and runs batches of ``batch_size``, so short
sentences are not padded to long ones; the rows come back in the order given.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from assistant.retrieval.embedder import DIM, MAX_TOKENS, clean_inputs

OPSET = 17
GRAPH_VERSION = "1"  # bump when the exported graph changes (the cache file's name carries it)


def graph_path(model_path: str | Path, onnx_dir: Path, precision: str = "fp32") -> Path:
    """Where the exported graph of ``model_path`` lives: named by the weights' size and hash
    of their first MB, so a different model folder never reuses another's graph."""
    weights = Path(model_path) / "model.safetensors"
    with weights.open("rb") as f:
        head = f.read(1 << 20)
    key = hashlib.sha256(head + str(weights.stat().st_size).encode()).hexdigest()[:12]
    return onnx_dir / f"minilm-{key}-v{GRAPH_VERSION}-{precision}.onnx"


def quantize_graph(fp32: Path, out: Path) -> Path:
    """The int8 variant: MatMul weights quantized per output channel (dynamic activations).

    Per channel because per-tensor int8 moved vectors too far (cosine to fp32 0.96 mean,
    0.84 worst on SQuAD sentences); per channel keeps 0.994 mean, 0.983 worst, and embeds
    about 2x faster here. Whether retrieval stays as good: docs/measurements.md."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    os.replace(tmp, out)
    return out


def export_graph(model_path: str | Path, out: Path) -> Path:
    """Export the sentence embedding (BERT -> masked mean -> L2 normalise) to ``out``.

    Written to a temporary name and renamed, so a killed export never leaves half a graph
    that a later ingest would load. Raises ``ImportError`` without the ``onnx`` package (the
    caller then embeds with sentence-transformers)."""
    import importlib.util

    if importlib.util.find_spec("onnx") is None:
        raise ImportError("exporting MiniLM for ONNX Runtime needs the onnx package: pip install onnx")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 9:] = 0  # a padded row, so the graph keeps the attention mask
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing: nothing to act on
        torch.onnx.export(
            SentenceEmbedding(model), (ids, mask), str(tmp),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "embedding": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )
    os.replace(tmp, out)
    return out


class OnnxMiniLM:
    """all-MiniLM-L6-v2 sentence vectors with ONNX Runtime (same vectors as sentence-transformers)."""

    dim = DIM

    def __init__(self, model_path: str | Path, onnx_dir: Path, threads: int = 1,
                 batch_size: int = 16, precision: str = "fp32") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if precision not in ("fp32", "int8"):
            raise ValueError(f"precision {precision!r}: use fp32 or int8")
        path = graph_path(model_path, onnx_dir)
        if not path.exists():
            export_graph(model_path, path)
        if precision == "int8":
            fp32, path = path, graph_path(model_path, onnx_dir, "int8")
            if not path.exists():
                quantize_graph(fp32, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # spaCy works in another thread meanwhile: idle ONNX threads sleep instead of spinning
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tok = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.no_padding()  # tokenizer.json pads to 128: batches are padded here, to their longest
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tok.encode_batch(clean_inputs(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for a in range(0, len(order), self._batch_size):
            rows = order[a : a + self._batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            out[rows] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out
