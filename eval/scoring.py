"""Aggregate per-item metrics into one ``Scores`` row, overall and per category.

Kept apart from ``eval.metrics`` so each metric stays a small pure function and this file is
only about grouping and averaging (means over the items where a metric is defined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from eval import metrics as m
from eval.dataset import CATEGORIES

# Metric name -> True when higher is better (used by the report, compare and the floor test).
HIGHER_IS_BETTER: dict[str, bool] = {
    "strict_accuracy": True, "strict_answer_accuracy": True, "squad_em": True, "squad_f1": True,
    "accuracy": True, "fact_recall": True, "refusal_accuracy": True, "false_refusal_rate": False,
    "false_answer_rate": False, "citation_recall": True, "citation_precision": True,
    "recall_at_k": True, "mrr": True, "latency_p50_ms": False, "latency_p95_ms": False,
    "error_rate": False,
}


@dataclass(frozen=True)
class Scores:
    """One row of the report. Rates are in [0, 1]; ``None`` means not defined for the group.

    ``strict_accuracy`` judges the direct answer alone (``metrics.answer_correct_strict``),
    over all items; ``strict_answer_accuracy`` the same over answerable items only;
    ``accuracy`` is the lenient figure (facts anywhere in the text). ``squad_em``/``squad_f1``
    are the official SQuAD 2.0 scores, defined only for SQuAD items.
    """

    n: int
    n_answerable: int
    strict_accuracy: float | None
    strict_answer_accuracy: float | None
    accuracy: float | None
    fact_recall: float | None
    refusal_accuracy: float | None
    false_refusal_rate: float | None
    false_answer_rate: float | None
    citation_recall: float | None
    citation_precision: float | None
    recall_at_k: float | None
    mrr: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    error_rate: float | None
    squad_em: float | None = None
    squad_f1: float | None = None

    @classmethod
    def metric_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in ("n", "n_answerable")]


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def score(pairs: Sequence[m.Pair], k: int) -> Scores:
    """All metrics over ``pairs`` (gold item, outcome), retrieval cut at ``k``."""
    ok = [(it, o) for it, o in pairs if not o.error]
    latencies = [o.latency_ms for _, o in ok]
    squad_pairs = [s for it, o in pairs if (s := m.squad_scores(it, o)) is not None]
    return Scores(
        n=len(pairs),
        n_answerable=sum(it.answerable for it, _ in pairs),
        strict_accuracy=_mean([float(m.answer_correct_strict(it, o)) for it, o in pairs]),
        strict_answer_accuracy=_mean([float(m.answer_correct_strict(it, o))
                                      for it, o in pairs if it.answerable]),
        accuracy=_mean([float(m.answer_correct(it, o)) for it, o in pairs]),
        fact_recall=_mean([m.fact_recall(it, o) for it, o in pairs]),
        refusal_accuracy=_mean([float(m.refusal_correct(it, o)) for it, o in pairs]),
        false_refusal_rate=m.false_refusal_rate(pairs),
        false_answer_rate=m.false_answer_rate(pairs),
        citation_recall=m.citation_recall(pairs),
        citation_precision=m.citation_precision(pairs),
        recall_at_k=_mean([m.recall_at_k(it, o, k) for it, o in ok]),
        mrr=_mean([m.reciprocal_rank(it, o) for it, o in ok]),
        latency_p50_ms=m.percentile(latencies, 50),
        latency_p95_ms=m.percentile(latencies, 95),
        error_rate=_mean([float(bool(o.error)) for _, o in pairs]),
        squad_em=_mean([em for em, _ in squad_pairs]),
        squad_f1=_mean([f1 for _, f1 in squad_pairs]),
    )


def score_by_category(pairs: Sequence[m.Pair], k: int) -> dict[str, Scores]:
    """``score`` per category present in ``pairs``, in the canonical category order."""
    return {cat: score(group, k) for cat in CATEGORIES
            if (group := [(it, o) for it, o in pairs if it.category == cat])}
