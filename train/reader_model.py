"""The reader's torch model and its files: what training writes and export reads back.

``Reader`` is a MiniLM-L6 BERT encoder with two heads: one logit for "this sentence answers
the question" and start/end logits for the answer span. ``save`` writes only the tensors
training changed, in fp16 (the word-embedding matrix is frozen and comes from the base model
at load time); ``load_trained`` rebuilds the model from those files over a base.

Its own module because both ``train.reader_train`` (save, and ``--init`` to continue a run)
and ``train.reader_export`` (load, then ONNX) need it, and neither should import the other.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from assistant.core.settings import default_model_path

MODEL_DIR = Path(__file__).resolve().parents[1] / "assistant" / "models" / "reader"
POOLS = ("cls", "pooler")


class Reader(nn.Module):
    """BERT encoder + a 1-logit "this sentence answers" head + start/end span logits."""

    def __init__(self, base: Path, pool: str = "cls") -> None:
        super().__init__()
        from transformers import BertModel

        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        self.bert = BertModel.from_pretrained(
            str(base), add_pooling_layer=pool == "pooler", torch_dtype=torch.float32
        )
        hidden = self.bert.config.hidden_size
        self.answer_head = nn.Linear(hidden, 1)
        self.span_head = nn.Linear(hidden, 2)

    def forward(self, ids, types, mask):
        h = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        logit = self.answer_head(self.pooled(h)).squeeze(-1)
        span = self.span_head(h)
        neg = torch.finfo(span.dtype).min
        span = span.masked_fill(~mask.bool().unsqueeze(-1), neg)
        return logit, span[..., 0], span[..., 1]

    def pooled(self, h: torch.Tensor) -> torch.Tensor:
        """What the answer head reads: the [CLS] state, or BERT's pre-trained pooler over it.

        Why "pooler": the base ships the dense+tanh layer BERT learnt on its sentence-pair
        pre-training task, a head start for a sentence-pair judgement."""
        return self.bert.pooler(h) if self.pool == "pooler" else h[:, 0]


def save(model: Reader, out_dir: Path, meta: dict, shard_mb: float = 0) -> None:
    """Write the changed tensors in fp16 (the word embeddings come from the base at load).

    ``shard_mb`` > 0 splits them over ``reader-00001.safetensors``, ... of at most that size
    each: files coming back from the GPU machine are limited to 16 MiB."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for k, v in model.state_dict().items():
        if k == "bert.embeddings.word_embeddings.weight" or k.endswith("position_ids"):
            continue
        name = k.removeprefix("bert.")
        tensors[name] = v.detach().to("cpu", torch.float16).contiguous()
    for old in out_dir.glob("reader*.safetensors"):
        old.unlink()
    if shard_mb <= 0:
        save_file(tensors, str(out_dir / "reader.safetensors"))
    else:
        shards: list[dict] = [{}]
        size = 0
        for name, t in tensors.items():
            nbytes = t.numel() * t.element_size()
            if shards[-1] and size + nbytes > shard_mb * 1e6:
                shards.append({})
                size = 0
            shards[-1][name] = t
            size += nbytes
        for i, shard in enumerate(shards, 1):
            save_file(shard, str(out_dir / f"reader-{i:05d}.safetensors"))
    (out_dir / "reader.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def load_trained(model_dir: Path, base: Path | None = None) -> Reader:
    """The torch reader: base weights (default: the packaged ones) + the tensors training
    changed, from ``reader.safetensors`` or the shards ``reader-0000N.safetensors``."""
    from safetensors.torch import load_file

    meta = json.loads((model_dir / "reader.json").read_text(encoding="utf-8"))
    reader = Reader(base or Path(default_model_path()), meta.get("pool", "cls"))
    files = sorted(model_dir.glob("reader-*.safetensors")) or [model_dir / "reader.safetensors"]
    state = {}
    for f in files:
        for k, v in load_file(str(f)).items():
            key = k if k.startswith(("answer_head", "span_head")) else f"bert.{k}"
            state[key] = v.float()
    missing, unexpected = reader.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert set(missing) <= {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_ids"}, missing
    return reader.eval()
