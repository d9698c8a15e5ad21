"""The one table of ``python -m eval --suite``, and its ``suite-<timestamp>.json`` / ``.md``.

Columns per set x split: strict and lenient accuracy (all items), ``ans_right`` (strict, over
answerable items only: the direct answer is right), the share of answerable questions refused,
the share of unanswerable ones refused, citation recall, SQuAD EM/F1 where defined, then the
same for the plain baseline run in the same process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.calibration import Calibration
from eval.failures import REASONS
from eval.report import REPORTS_DIR, _git_commit
from eval.scoring import Scores
from eval.suite_run import SetResult

HEADER = ["set", "split", "n", "strict", "lenient", "ans_right", "ans_refused", "unans_refused", "cite_R",
          "EM", "F1", "sure_cov", "sure_right",
          "| base strict", "base lenient", "base ans_right", "base cite_R", "base EM", "base F1"]


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _unans_refused(s: Scores) -> float | None:
    return None if s.false_answer_rate is None else 1.0 - s.false_answer_rate


def _sure(c: Calibration | None) -> list[str]:
    """The share of items shown as confident, and how many of those are strictly right."""
    return ["—", "—"] if c is None else [_f(c.confident[0]), _f(c.confident[1])]


def rows(results: Sequence[SetResult]) -> list[list[str]]:
    """Header plus one row per set and split (a failed set gets one row with its error)."""
    out = [HEADER]
    for r in results:
        if r.error:
            out.append([r.name, "ERROR", str(r.n_items), r.error[:60], *[""] * (len(HEADER) - 4)])
            continue
        for split, sr in r.splits.items():
            s, b = sr.system, sr.baseline
            out.append([r.name, split, str(s.n), _f(s.strict_accuracy), _f(s.accuracy),
                        _f(s.strict_answer_accuracy), _f(s.false_refusal_rate), _f(_unans_refused(s)),
                        _f(s.citation_recall), _f(s.squad_em), _f(s.squad_f1), *_sure(sr.calibration),
                        "| " + _f(b.strict_accuracy),
                        _f(b.accuracy), _f(b.strict_answer_accuracy), _f(b.citation_recall), _f(b.squad_em),
                        _f(b.squad_f1)])
    return out


def format_table(results: Sequence[SetResult]) -> str:
    table = rows(results)
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in table)


def build(results: Sequence[SetResult], suite: str, backend: str, k: int) -> dict[str, Any]:
    sets = {}
    for r in results:
        sets[r.name] = {
            "note": r.note, "every": r.every, "n_items": r.n_items, "index_dir": r.index_dir,
            "seconds": round(r.seconds, 1), "error": r.error,
            "splits": {sp: {"system": asdict(sr.system), "baseline": asdict(sr.baseline),
                            "failures": sr.failures, "answer_reasons": sr.answer_reasons,
                            "calibration": asdict(sr.calibration) if sr.calibration else None}
                       for sp, sr in r.splits.items()},
            "dev_items": r.items,
        }
    return {"kind": "suite", "suite": suite, "backend": backend, "k": k,
            "created": datetime.now(UTC).isoformat(timespec="seconds"), "git_commit": _git_commit(),
            "sets": sets}


def _md_table(results: Sequence[SetResult]) -> list[str]:
    table = [["| " + " | ".join(c.lstrip("| ") for c in r) + " |"] for r in rows(results)]
    return [table[0][0], "|" + "---|" * len(HEADER), *(r[0] for r in table[1:])]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: dict[str, Any], results: Sequence[SetResult]) -> str:
    lines = [f"# Eval suite `{report['suite']}` {report['created']}", "",
             f"- commit `{report['git_commit']}`, backend `{report['backend']}`, k = {report['k']}; "
             "strict = the direct answer alone is judged; base = MiniLM top-2 sentences, never refusing", "",
             *_md_table(results), "", "## Why wrong answers went wrong (strict)", ""]
    lines += [f"- `{k}`: {v}" for k, v in REASONS.items()]
    lines += ["", "| set | split | " + " | ".join(REASONS) + " |", "|---|---|" + "---|" * len(REASONS)]
    for r in results:
        for sp, sr in r.splits.items():
            counts = " | ".join(str(sr.failures.get(x, 0)) for x in REASONS)
            lines.append(f"| {r.name} | {sp} | {counts} |")
    for r in results:
        reasons = {sp: sr.answer_reasons for sp, sr in r.splits.items() if sr.answer_reasons}
        if reasons:
            lines += ["", f"Answerer's own reasons on wrong items, {r.name}: {reasons}"]
    lines += _calibration_md(results)
    lines += ["", "## Wrong dev items (test items are reported in aggregate only)", "",
              "| set | id | cause | question | direct answer | reference |", "|---|---|---|---|---|---|"]
    for r in results:
        for it in r.items:
            if not it["strict"]:
                cells = [r.name, it["id"], str(it["failure"]), it["question"], it["direct"][:120],
                         it["reference"][:80]]
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _calibration_md(results: Sequence[SetResult]) -> list[str]:
    """Per set and split: the reliability of P(right) and the risk–coverage curve."""
    lines = ["", "## How sure: reliability of P(right) and risk–coverage (answers given)", "",
             "| set | split | P(right) bins: answers, mean P → share right | coverage: share right |",
             "|---|---|---|---|"]
    for r in results:
        for sp, sr in r.splits.items():
            c = sr.calibration
            if c is None or not c.reliability:
                continue
            bins = "; ".join(f"{b} {n}, {mp:.2f}→{right:.2f}" for b, n, mp, right in c.reliability)
            curve = "; ".join(f"{cov:.0%}: {right:.2f}" for cov, _p, right in c.risk_coverage)
            lines.append(f"| {r.name} | {sp} | {bins} | {curve} |")
    return lines


def write(report: dict[str, Any], results: Sequence[SetResult], out_dir: Path = REPORTS_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"suite-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    path.with_suffix(".md").write_text(to_markdown(report, results), encoding="utf-8")
    return path
