"""Export a trained reader to ONNX and quantise it to int8 for the question path.

``python -m train.reader_export --model train/out/reader`` reads the fp16 tensors that
``train.reader_train`` wrote, rebuilds the torch model over the packaged base weights and
writes to an output folder (``train/out/reader-onnx`` by ``make train-reader``):

* ``reader.int8.onnx`` — the encoder and both heads, weights int8 (dynamic quantisation;
  activations stay float). Its input is ``inputs_embeds``: the word-embedding lookup is done
  at load time from the packaged all-MiniLM-L6-v2 matrix (frozen in training), so the repo
  never stores that half of the model.
* ``reader.json`` — the training record plus what inference must repeat (max length, context).

Why ONNX int8: a cross-encoder forward over ~8 candidates is ~10 GFLOP; fp32 NumPy on two
cores took ~0.3–0.8 s, onnxruntime int8 a fraction of that (``make bench`` prints it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from train.reader_model import MODEL_DIR, Reader, load_trained


class _Exportable(torch.nn.Module):
    """The reader with ``inputs_embeds`` as input (the lookup happens outside the graph)."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    def forward(self, embeds, types, mask):
        h = self.reader.bert(
            inputs_embeds=embeds, token_type_ids=types, attention_mask=mask
        ).last_hidden_state
        logit = self.reader.answer_head(self.reader.pooled(h))
        span = self.reader.span_head(h)
        return logit, span


def export(model_dir: Path, out_dir: Path, keep_fp32: Path | None = None) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    reader = load_trained(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = (keep_fp32 or out_dir) / "reader.fp32.onnx"
    fp32.parent.mkdir(parents=True, exist_ok=True)
    b, n = 2, 16
    args = (torch.zeros(b, n, 384), torch.zeros(b, n, dtype=torch.long), torch.ones(b, n, dtype=torch.long))
    torch.onnx.export(
        _Exportable(reader),
        args,
        str(fp32),
        input_names=["embeds", "types", "mask"],
        output_names=["answer_logit", "span_logits"],
        dynamic_axes={k: {0: "batch", 1: "tokens"} for k in ("embeds", "types", "mask", "span_logits")}
        | {"answer_logit": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    int8 = out_dir / "reader.int8.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    if keep_fp32 is None:
        fp32.unlink()
    meta = json.loads((model_dir / "reader.json").read_text(encoding="utf-8"))
    meta["runtime"] = {
        "file": int8.name,
        "quantisation": "onnxruntime dynamic int8, per channel",
        "opset": 17,
    }
    (out_dir / "reader.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return int8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="train/out/reader", help="what train.reader_train wrote")
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--keep-fp32", default="", help="also keep the fp32 ONNX in this folder (to compare)")
    args = ap.parse_args()
    path = export(Path(args.model), Path(args.out), Path(args.keep_fp32) if args.keep_fp32 else None)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
