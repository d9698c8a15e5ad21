"""``python -m train.decision.compare``: the shipped linear models against gradient-boosted trees,
out of fold, on the records the last fit collected (``.decision-data/phase1.jsonl``, ``phase3``).

Why it exists: the issue that asked for a learned decision layer named both model families.
The linear ones ship because this comparison says trees are no better here; it is kept runnable
so the claim can be checked again after features or data change. Trees are scikit-learn's
``HistGradientBoostingClassifier`` (pointwise for the candidate choice, where the linear model
is a conditional logit over a question's candidates), with the same folds (grouped by article),
the same row weights and the same threshold rule as ``fit``.

Output: one line per model: candidate top-1 (answerable questions whose candidates hold the
gold sentence), and for P(right) the AUC and the strict accuracy at the threshold each model's
out-of-fold P chooses, per source (``fit.source``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from train.decision.collect import Record, read
from train.decision.data import WORK
from train.decision.fit import (
    answer_weights,
    choose_thresholds,
    decided_p,
    fit_answers,
    fit_candidates,
    folds,
    per_question,
    source,
    strict_hit,
    weights,
)

SOURCES = ("product", "squad")


def trees() -> HistGradientBoostingClassifier:
    """The tree model compared (settings that did best of the few tried on these records)."""
    return HistGradientBoostingClassifier(
        learning_rate=0.05, max_iter=300, max_leaf_nodes=15, min_samples_leaf=40, random_state=0
    )


def tree_candidates_oof(records: Sequence[Record]) -> np.ndarray:
    """Out-of-fold P(holds the answer) per candidate (record order, as ``fit_candidates``),
    trees fitted on the candidates of answerable questions whose candidates hold it."""
    x = np.asarray([row for r in records for row in r.candidate_features], float)
    y = np.asarray([lab for r in records for lab in r.candidate_labels])
    owner = np.asarray([i for i, r in enumerate(records) for _ in r.candidate_labels])
    w_q = weights([r.group for r in records])
    usable = np.asarray([r.answerable and any(r.candidate_labels) for r in records])
    oof = np.zeros(len(y))
    for tr, te in folds([r.group for r in records]):
        fit_rows = np.isin(owner, tr) & usable[owner]
        model = trees().fit(x[fit_rows], y[fit_rows], sample_weight=w_q[owner[fit_rows]])
        test_rows = np.isin(owner, te)
        oof[test_rows] = model.predict_proba(x[test_rows])[:, 1]
    return oof


def tree_answers_oof(used: Sequence[Record]) -> np.ndarray:
    """Out-of-fold P(right) for the records that reached the decision, trees with the answer
    model's row weights (``answer_weights``)."""
    x = np.asarray([r.answer_features for r in used], float)
    y = np.asarray([int(r.right) for r in used])
    w = answer_weights(used)
    oof = np.zeros(len(y))
    for tr, te in folds([r.group for r in used]):
        oof[te] = trees().fit(x[tr], y[tr], sample_weight=w[tr]).predict_proba(x[te])[:, 1]
    return oof


def top1(records: Sequence[Record], cand_p: np.ndarray, src: str) -> float:
    """Share of ``src``'s answerable questions (with the gold sentence among the candidates)
    whose most likely candidate holds it."""
    hits = [
        r.candidate_labels[int(np.argmax(p))]
        for r, p in per_question(records, cand_p)
        if source(r.group) == src and r.answerable and any(r.candidate_labels)
    ]
    return float(np.mean(hits)) if hits else float("nan")


def answer_line(records: Sequence[Record], p: np.ndarray) -> str:
    """AUC per source and strict accuracy per source at the threshold ``p`` itself chooses."""
    used = [r for r in records if r.answer_features]
    y = np.asarray([int(r.right) for r in used])
    src = np.asarray([source(r.group) for r in used])
    threshold, _ = choose_thresholds(records, p)
    p_of = decided_p(records, p)
    parts = [f"threshold {threshold:.2f}"]
    for s in SOURCES:
        sel = src == s
        auc = roc_auc_score(y[sel], p[sel]) if len(set(y[sel])) == 2 else float("nan")
        acc = np.mean([strict_hit(r, p_of, threshold) for r in records if source(r.group) == s])
        parts.append(f"{s}: AUC {auc:.3f}, strict {acc:.3f}")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.decision.compare", description=__doc__)
    ap.add_argument("--work", default=str(WORK), help="folder of the fit's phase files")
    args = ap.parse_args(argv)
    try:
        first, third = (read(Path(args.work) / f"phase{i}.jsonl") for i in (1, 3))
    except FileNotFoundError as exc:
        print(f"no records: run `make decision-model` first ({exc.filename})", file=sys.stderr)
        return 2
    linear_c = fit_candidates(first).oof
    tree_c = tree_candidates_oof(first)
    for name, p in (("linear (conditional logit)", linear_c), ("trees", tree_c)):
        print(f"candidate top-1, {name}: " + ", ".join(f"{s} {top1(first, p, s):.3f}" for s in SOURCES))
    print(f"P(right), linear: {answer_line(third, fit_answers(third).oof)}")
    print(f"P(right), trees: {answer_line(third, tree_answers_oof([r for r in third if r.answer_features]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
