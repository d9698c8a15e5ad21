"""``--compare A.json B.json``: per-metric deltas between two saved reports (B minus A).

Each delta is marked ``+`` (better) or ``-`` (worse) according to the metric's direction,
so a regression is visible without remembering which rates should go down.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.report import COLUMNS, BackendScores, fmt, scores_from_report
from eval.scoring import HIGHER_IS_BETTER, Scores


def _delta(metric: str, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "—"
    d = b - a
    if abs(d) < 1e-12:
        return "0"
    better = (d > 0) == HIGHER_IS_BETTER[metric]
    num = f"{d:+.0f}" if metric.endswith("_ms") else f"{d:+.2f}"
    return f"{num} {'+' if better else '-'}"


def compare_scores(a: BackendScores, b: BackendScores) -> str:
    """Overall metric-by-metric table, then per-category accuracy deltas."""
    if a.overall is None or b.overall is None:
        return f"[{a.backend}] cannot compare: {a.error or b.error or 'no scores'}"
    lines = [f"[{a.backend}] overall", f"{'metric':<20}{'A':>8}{'B':>8}  delta"]
    for metric in Scores.metric_names():
        va, vb = getattr(a.overall, metric), getattr(b.overall, metric)
        lines.append(f"{metric:<20}{fmt(metric, va):>8}{fmt(metric, vb):>8}  {_delta(metric, va, vb)}")
    lines += ["", f"[{a.backend}] per category (delta B - A)",
              f"{'category':<18}" + "".join(f"{h:>12}" for h in COLUMNS.values())]
    for cat in [c for c in a.categories if c in b.categories]:
        sa, sb = a.categories[cat], b.categories[cat]
        cells = [_delta(m, getattr(sa, m), getattr(sb, m)) for m in COLUMNS]
        lines.append(f"{cat:<18}" + "".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def compare_files(path_a: Path, path_b: Path) -> str:
    """Compare every backend present in both reports; name the ones only one of them has."""
    ra = scores_from_report(json.loads(Path(path_a).read_text(encoding="utf-8")))
    rb = scores_from_report(json.loads(Path(path_b).read_text(encoding="utf-8")))
    parts = [f"A = {path_a}\nB = {path_b}"]
    parts += [compare_scores(ra[n], rb[n]) for n in ra if n in rb]
    only = sorted(set(ra) ^ set(rb))
    if only:
        parts.append(f"backends in only one report: {only}")
    return "\n\n".join(parts)
