"""How well the answerer knows when it is right: reliability and risk–coverage of P(right).

Inputs: (gold item, outcome) pairs whose outcomes carry the answerer's ``confidence`` (its
calibrated P(the answer is right), -1 when no model judged) and ``certainty`` ("confident",
"probable", "unsure"). Outputs: plain rows for the suite report — a reliability table (is an
answer given P = 0.7 right 70% of the time?), a risk–coverage table (answer only the most
confident x% of questions: how often right?) and the selective accuracy of the answers shown as
confident, with their coverage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval import metrics as m


@dataclass(frozen=True)
class Calibration:
    """``reliability``: (bin, answers, mean P, share strictly right); ``risk_coverage``:
    (coverage, P at the cut, share right) over the answers sorted by P; ``confident``: (share of
    items shown as confident, share of those strictly right or None)."""

    reliability: list[tuple[str, int, float, float]]
    risk_coverage: list[tuple[float, float, float]]
    confident: tuple[float, float | None]


def _judged(pairs: Sequence[m.Pair]) -> list[tuple[float, bool]]:
    """(P(right), strictly right) of every answer the decision model judged and gave."""
    return [(o.confidence, m.answer_correct_strict(it, o)) for it, o in pairs
            if not o.refused and not o.error and o.confidence >= 0]


def calibration(pairs: Sequence[m.Pair]) -> Calibration:
    judged = _judged(pairs)
    bins = []
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        got = [(p, r) for p, r in judged if lo <= p < lo + 0.2 or (lo == 0.8 and p == 1.0)]
        if got:
            bins.append((f"{lo:.1f}–{lo + 0.2:.1f}", len(got), sum(p for p, _ in got) / len(got),
                         sum(r for _, r in got) / len(got)))
    ranked = sorted(judged, key=lambda t: -t[0])
    curve = []
    for cov in (0.2, 0.4, 0.6, 0.8, 1.0):
        k = max(1, round(cov * len(ranked)))
        if ranked:
            curve.append((cov, ranked[k - 1][0], sum(r for _, r in ranked[:k]) / k))
    sure = [m.answer_correct_strict(it, o) for it, o in pairs if o.certainty == "confident" and not o.error]
    coverage = len(sure) / len(pairs) if pairs else 0.0
    return Calibration(bins, curve, (coverage, sum(sure) / len(sure) if sure else None))
