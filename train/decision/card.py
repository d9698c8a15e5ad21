"""The model card written beside the fitted model: data, features and weights, validation.

Every figure is out of fold (``fit.folds``: grouped by document), so none of them comes
from a question whose article the model saw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from assistant.answering.decision import DecisionModel, LinearModel
from assistant.answering.decision.model import bootstrap_model
from train.decision.collect import Record
from train.decision.data import FOREIGN_ID
from train.decision.fit import accuracy_at, decided_p, per_question, source, strict_hit


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    pos, neg = p[y == 1], p[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _weights(model: LinearModel) -> list[str]:
    order = sorted(range(len(model.names)), key=lambda i: -abs(model.weights[i]))
    return [f"| `{model.names[i]}` | {model.weights[i]:+.2f} |" for i in order]


def _top1(records: Sequence[Record], oof: np.ndarray) -> tuple[float, float, float, int]:
    """Among answerable questions: gold sentence first by retrieval, first by the model, anywhere."""
    n, by_rank, by_model, found = 0, 0, 0, 0
    for r, p in per_question(records, oof):
        if not r.answerable or not len(p):
            continue
        n += 1
        by_rank += r.candidate_labels[0]
        by_model += r.candidate_labels[int(np.argmax(p))]
        found += any(r.candidate_labels)
    return by_rank / max(1, n), by_model / max(1, n), found / max(1, n), n


def _span_top1(records: Sequence[Record], oof: np.ndarray) -> tuple[float, float, int, int]:
    """Among questions whose options hold the gold answer: the option chosen by the hand-set
    prior (``model.bootstrap_model``, the rule the span model replaced) and by the model (out of
    fold) states it; how many such questions, of how many with options at all."""
    prior = bootstrap_model().span
    n, by_prior, by_model, with_options = 0, 0, 0, 0
    for r, p in per_question(records, oof, spans=True):
        with_options += len(p) > 0
        if not any(r.span_labels):
            continue
        n += 1
        by_prior += r.span_labels[int(np.argmax(prior.predict(r.span_features)))]
        by_model += r.span_labels[int(np.argmax(p))]
    return by_prior / max(1, n), by_model / max(1, n), n, with_options


def _reliability(y: np.ndarray, p: np.ndarray) -> list[str]:
    rows = []
    for lo in np.arange(0, 1, 0.1):
        sel = (p >= lo) & (p < lo + 0.1 + (1e-9 if lo >= 0.9 else 0))
        if sel.sum():
            rows.append(
                f"| {lo:.1f}–{lo + 0.1:.1f} | {int(sel.sum())} | {p[sel].mean():.2f} | {y[sel].mean():.2f} |"
            )
    return rows


def _risk_coverage(y: np.ndarray, p: np.ndarray) -> list[str]:
    order = np.argsort(-p)
    rows = []
    for cov in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        k = max(1, round(cov * len(p)))
        rows.append(f"| {cov:.0%} | {p[order][k - 1]:.2f} | {y[order][:k].mean():.2f} |")
    return rows


def write_card(
    model: DecisionModel,
    records: Sequence[Record],
    cand_oof: np.ndarray,
    span_oof: np.ndarray,
    ans_oof: np.ndarray,
) -> str:
    """The card's Markdown: data, out-of-fold validation, reliability, risk-coverage, weights."""
    used = [r for r in records if r.answer_features]
    y = np.asarray([int(r.right) for r in used])
    groups = Counter(r.group.split(":")[0] for r in records)
    rank1, model1, found, n_ans = _top1(records, cand_oof)
    span_prior, span_model, n_span, n_options = _span_top1(records, span_oof)
    cand_y = np.asarray([lab for r in records for lab in r.candidate_labels])
    sure = ans_oof >= model.confident_threshold
    sure_right = f"{y[sure].mean():.2f}" if sure.any() else "n/a"
    t = model.answer_threshold
    lines = [
        "# Decision model card (`decision.json`)",
        "",
        "Three linear models that make the extractive answerer's decisions",
        "(`assistant/answering/decision/`),",
        f"fitted by `make decision-model` (`python -m train.decision`), version `{model.version}`.",
        "",
        "## Data",
        f"- {len(records)} questions: {groups.get('squad', 0)} from the ten SQuAD 2.0 dev articles the eval "
        "never uses (`train/data/squad-dev-v2.0.json`, CC BY-SA 4.0; "
        f"{sum(r.item_id.startswith(FOREIGN_ID) for r in records)} of them off-topic: each article asked "
        "the next one's questions, `data.foreign_question_sets`), "
        f"{groups.get('eval', 0)} from the *dev* splits of the eval sets (news, the article sets, SQuAD's "
        "two dev articles). No test-split item is read. Each source weighs half (`fit.weights`); for "
        "P(right) and the threshold, SQuAD's unanswerable questions weigh as often as the product sets' "
        "questions are unanswerable (`fit.answer_weights`).",
        f"- Candidates: every sentence retrieval proposes per question ({len(cand_y)} rows, "
        f"{int(cand_y.sum())} holding the gold answer).",
        f"- Answers: the {len(used)} questions that reached the decision (the others were decided by a "
        "rule: a name in no document, an absent condition, arithmetic ...), labelled by strict scoring "
        "(`eval.metrics`).",
        "",
        "## Validation (out of fold: 5 folds grouped by article / set)",
        f"- Candidate choice, {n_ans} answerable questions: gold sentence first by retrieval {rank1:.3f}, "
        f"by the model {model1:.3f}; among the candidates at all {found:.3f}. "
        f"AUC {_auc(cand_y, cand_oof):.3f}. A second sentence is cited from P >= {model.cite_threshold:.2f}.",
        f"- Direct answer, {n_span} questions whose sentence's options (names, places, dates, figures; "
        f"{n_options} questions had options) hold the gold answer: the option chosen states it "
        f"{span_prior:.3f} by the hand-set order it replaced, {span_model:.3f} by the model.",
        f"- P(right): AUC {_auc(y, ans_oof):.3f}; weighted (`answer_weights`) strict accuracy over all "
        "questions at the "
        f"answer threshold {t:.2f}: {accuracy_at(records, ans_oof, t):.3f} (answering everything that "
        f"reaches the decision: {accuracy_at(records, ans_oof, 0.0):.3f}).",
        f"- Confident from P(right) >= {model.confident_threshold:.2f}: {sure.mean():.0%} of decided "
        f"questions, right {sure_right}.",
        *_per_source(records, ans_oof, t, model.confident_threshold),
        "",
        "### Reliability of P(right)",
        "",
        "Rows count every decided question alike, so SQuAD's dominate; the model is fitted with each source",
        "weighing half and SQuAD's unanswerable ones at the product sets' share, so it is over-confident",
        "on SQuAD's adversarial questions (per set and split: the eval report's calibration table).",
        "",
        "| P(right) | questions | mean P | share right |",
        "|---|---|---|---|",
        *_reliability(y, ans_oof),
        "",
        "### Risk–coverage (answers sorted by P(right))",
        "| coverage | P(right) at the cut | share right |",
        "|---|---|---|",
        *_risk_coverage(y, ans_oof),
        "",
        "## Weights (standardised features; sign = direction)",
        "| candidate feature | weight |",
        "|---|---|",
        *_weights(model.candidate),
        "",
        "| direct-answer feature | weight |",
        "|---|---|",
        *_weights(model.span),
        "",
        "| answer feature | weight |",
        "|---|---|",
        *_weights(model.answer),
        "",
    ]
    return "\n".join(lines)


def _per_source(records: Sequence[Record], ans_oof: np.ndarray, t: float, confident: float) -> list[str]:
    """Strict accuracy at the threshold and the confident answers' share right, per source (the
    product's kind of text, and SQuAD)."""
    p_of = decided_p(records, ans_oof)
    out = []
    for src in ("product", "squad"):
        rs = [r for r in records if source(r.group) == src]
        hits = [strict_hit(r, p_of, t) for r in rs]
        decided = [r for r in rs if r.answer_features]
        sure = [r.right for r in decided if p_of[r.item_id] >= confident]
        right = f"{np.mean(sure):.2f}" if sure else "n/a"
        out.append(
            f"- {src}: {len(rs)} questions, strict accuracy {np.mean(hits):.3f} at the threshold; "
            f"{len(sure)} answers confident ({len(sure) / max(1, len(decided)):.0%} of decided), "
            f"right {right}."
        )
    return out
