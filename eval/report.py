"""Turn backend runs into the report: a console table, ``<timestamp>.json`` and ``.md``.

The JSON is the durable artefact (``--compare`` reads it, CI can archive it); the Markdown is
for people; both carry per-item details so a failure can be traced to its question.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.dataset import GoldItem
from eval.records import Outcome
from eval.runner import BackendRun
from eval.scoring import Scores, score, score_by_category

REPORTS_DIR = Path(__file__).resolve().parent / "reports"
SCHEMA = 1

# Short column headers for the console and Markdown tables.
COLUMNS: dict[str, str] = {
    "strict_accuracy": "strict", "accuracy": "lenient", "fact_recall": "facts",
    "refusal_accuracy": "refuse_ok",
    "false_refusal_rate": "false_ref", "false_answer_rate": "false_ans", "citation_recall": "cite_R",
    "citation_precision": "cite_P", "recall_at_k": "R@k", "mrr": "MRR",
    "latency_p50_ms": "p50ms", "latency_p95_ms": "p95ms",
}


@dataclass(frozen=True)
class BackendScores:
    """Scores of one backend: overall and per category (empty when the backend failed)."""

    backend: str
    error: str
    overall: Scores | None
    categories: dict[str, Scores]


def score_run(run: BackendRun, items: Sequence[GoldItem], k: int) -> BackendScores:
    """Pair a run's outcomes with their gold items and score them."""
    if run.failed:
        return BackendScores(run.backend, run.error, None, {})
    by_id = {it.id: it for it in items}
    pairs = [(by_id[o.item_id], o) for o in run.outcomes]
    return BackendScores(run.backend, "", score(pairs, k), score_by_category(pairs, k))


def fmt(name: str, value: float | None) -> str:
    """A metric value as a table cell: rates with two decimals, milliseconds whole."""
    if value is None:
        return "—"
    return f"{value:.0f}" if name.endswith("_ms") else f"{value:.2f}"


def table_rows(bs: BackendScores) -> list[list[str]]:
    """Header plus one row per category and an ``overall`` row."""
    rows = [["category", "n", *COLUMNS.values()]]
    groups = [*bs.categories.items(), ("overall", bs.overall)] if bs.overall else []
    for name, s in groups:
        assert s is not None
        rows.append([name, str(s.n), *(fmt(metric, getattr(s, metric)) for metric in COLUMNS)])
    return rows


def format_table(bs: BackendScores) -> str:
    """A fixed-width console table for one backend."""
    if bs.error:
        return f"[{bs.backend}] ERROR: {bs.error}"
    rows = table_rows(bs)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"[{bs.backend}]"]
    for n, r in enumerate(rows):
        if n == len(rows) - 1:
            lines.append("-" * (sum(widths) + 2 * len(widths)))
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                                    strict=True))))
    return "\n".join(lines)


def _item_record(item: GoldItem, outcome: Outcome, k: int) -> dict[str, Any]:
    return {
        "id": item.id, "category": item.category, "question": item.question,
        "answerable": item.answerable, "split": item.split,
        "correct": m.answer_correct_strict(item, outcome), "lenient_correct": m.answer_correct(item, outcome),
        "direct_answer": m.direct_answer(outcome), "reason": outcome.reason,
        "refused": outcome.refused, "error": outcome.error, "kind": outcome.kind,
        "standalone_question": outcome.standalone_question, "answer": outcome.text,
        "missing_facts": [list(alts) for alts, hit in zip(item.must, m.fact_hits(item, outcome), strict=True)
                          if not hit] if item.answerable else [],
        "cited": [c.sentence_id for c in outcome.citations],
        "cited_needed": m.citation_needed(item, outcome),
        "gold_evidence": sorted(sid for e in item.evidence for sid in e.sentence_ids),
        "retrieved": [r.sentence_id for r in outcome.retrieved[:k]],
        "latency_ms": round(outcome.latency_ms, 1),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=REPORTS_DIR.parent, timeout=5, check=False)
        return out.stdout.strip()
    except OSError:
        return ""


def build_report(runs: Sequence[BackendRun], items: Sequence[GoldItem], k: int, gold_path: Path,
                 filters: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready report for all backends."""
    by_id = {it.id: it for it in items}
    backends: dict[str, Any] = {}
    for run in runs:
        bs = score_run(run, items, k)
        backends[run.backend] = {
            "error": bs.error,
            "overall": asdict(bs.overall) if bs.overall else None,
            "categories": {c: asdict(s) for c, s in bs.categories.items()},
            "items": [] if run.failed else [_item_record(by_id[o.item_id], o, k) for o in run.outcomes],
        }
    return {
        "schema": SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "gold": str(gold_path),
        "gold_sha256": hashlib.sha256(gold_path.read_bytes()).hexdigest() if gold_path.exists() else "",
        "n_items": len(items), "k": k, "filters": filters, "backends": backends,
    }


def _scores(raw: dict[str, Any]) -> Scores:
    """A saved ``Scores`` row; metrics an older report lacks (e.g. strict ones) read as ``None``."""
    return Scores(**{f.name: raw.get(f.name) for f in fields(Scores)})


def scores_from_report(report: dict[str, Any]) -> dict[str, BackendScores]:
    """Re-read the scores of a saved report (for ``--compare`` and plots)."""
    out = {}
    for name, b in report["backends"].items():
        overall = _scores(b["overall"]) if b.get("overall") else None
        cats = {c: _scores(s) for c, s in (b.get("categories") or {}).items()}
        out[name] = BackendScores(name, b.get("error", ""), overall, cats)
    return out


def to_markdown(report: dict[str, Any]) -> str:
    """The human-readable report: settings, one table per backend, then the failed items."""
    lines = [f"# Eval report {report['created']}", "",
             f"- commit `{report['git_commit']}`, gold `{report['gold']}` ({report['n_items']} items), "
             f"k = {report['k']}, filters {report['filters']}", ""]
    for name, bs in scores_from_report(report).items():
        lines.append(f"## Backend `{name}`")
        lines.append("")
        if bs.error:
            lines += [f"**Error:** {bs.error}", ""]
            continue
        rows = table_rows(bs)
        lines.append("| " + " | ".join(rows[0]) + " |")
        lines.append("|" + "---|" * len(rows[0]))
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        lines += ["", "### Incorrect items", "",
                  "| id | question | refused | missing | cited / gold | answer |",
                  "|---|---|---|---|---|---|"]
        for it in report["backends"][name]["items"]:
            if it["correct"]:
                continue
            ans = it["error"] or it["answer"]
            ans = ans.replace("|", "\\|").replace("\n", " ")
            q = it["question"].replace("|", "\\|")
            lines.append(f"| {it['id']} | {q} | {it['refused']} | {it['missing_facts']} | "
                         f"{it['cited']} / {it['gold_evidence']} | {ans[:160]} |")
        lines.append("")
    return "\n".join(lines)


def write_report(report: dict[str, Any], out_dir: Path = REPORTS_DIR, stem: str | None = None) -> Path:
    """Write ``<stem>.json`` and ``<stem>.md``; returns the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or datetime.now().strftime("%Y%m%d-%H%M%S")
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / f"{stem}.md").write_text(to_markdown(report), encoding="utf-8")
    return json_path
