"""``--compare A.json B.json``: per-metric deltas between two saved reports (B minus A).

Each delta is marked ``+`` (better) or ``-`` (worse) according to the metric's direction,
so a regression is visible without remembering which rates should go down.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.report import COLUMNS, BackendScores, fmt, scores_from_report
from eval.scoring import HIGHER_IS_BETTER, Scores


def _delta(metric: str, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "—"
    d = b - a
    if abs(d) < (0.5 if metric.endswith("_ms") else 0.005):  # below the printed precision
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


SUITE_METRICS = ("strict_accuracy", "accuracy", "strict_answer_accuracy", "false_refusal_rate",
                 "false_answer_rate", "citation_recall", "squad_f1")


def compare_suites(raw_a: dict[str, Any], raw_b: dict[str, Any]) -> str:
    """Two ``--suite`` reports: per set and split, the answerer's key metrics A -> B."""
    lines = [f"{'set':<12}{'split':<6}{'metric':<24}{'A':>8}{'B':>8}  delta"]
    for name, set_a in raw_a["sets"].items():
        set_b = raw_b["sets"].get(name)
        if set_b is None:
            lines.append(f"{name:<12}only in A")
            continue
        for split, sp_a in set_a["splits"].items():
            sp_b = set_b["splits"].get(split)
            if sp_b is None:
                continue
            for metric in SUITE_METRICS:
                va, vb = sp_a["system"].get(metric), sp_b["system"].get(metric)
                if va is None and vb is None:
                    continue
                lines.append(f"{name:<12}{split:<6}{metric:<24}{fmt(metric, va):>8}{fmt(metric, vb):>8}  "
                             f"{_delta(metric, va, vb)}")
    lines += [f"{name:<12}only in B" for name in raw_b["sets"] if name not in raw_a["sets"]]
    return "\n".join(lines)


def compare_files(path_a: Path, path_b: Path) -> str:
    """Compare every backend present in both reports; name the ones only one of them has.
    Two suite reports (``--suite``) are compared set by set and split by split."""
    raw_a = json.loads(Path(path_a).read_text(encoding="utf-8"))
    raw_b = json.loads(Path(path_b).read_text(encoding="utf-8"))
    if raw_a.get("kind") == "suite" or raw_b.get("kind") == "suite":
        if raw_a.get("kind") != raw_b.get("kind"):
            return "cannot compare a suite report with a single-set report"
        return f"A = {path_a}\nB = {path_b}\n" + compare_suites(raw_a, raw_b)
    ra, rb = scores_from_report(raw_a), scores_from_report(raw_b)
    header = [f"A = {path_a}", f"B = {path_b}"]
    for field in ("gold_sha256", "n_items", "k", "filters"):
        if raw_a.get(field) != raw_b.get(field):
            header.append(f"warning: the reports differ in {field} ({raw_a.get(field)!r} vs "
                          f"{raw_b.get(field)!r}); deltas mix item sets")
    parts = ["\n".join(header)]
    parts += [compare_scores(ra[n], rb[n]) for n in ra if n in rb]
    only = sorted(set(ra) ^ set(rb))
    if only:
        parts.append(f"backends in only one report: {only}")
    return "\n\n".join(parts)
