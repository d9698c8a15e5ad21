"""``--export FILE.jsonl``: outcomes as records for RAG-evaluation tools.

Field names follow ragas' ``SingleTurnSample`` (``user_input``, ``retrieved_contexts``,
``response``, ``reference``), which TruLens' RAG triad also maps onto, so the same run can
be re-scored with LLM judges outside this offline harness.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from eval.dataset import GoldItem
from eval.runner import BackendRun


def export_records(runs: Sequence[BackendRun], items: Sequence[GoldItem], path: Path) -> int:
    """Write one JSON line per (backend, item); returns how many were written."""
    by_id = {it.id: it for it in items}
    n = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for run in runs:
            for o in run.outcomes:
                item = by_id[o.item_id]
                contexts = list(dict.fromkeys(r.text for r in (*o.citations, *o.retrieved) if r.text))
                record = {
                    "user_input": o.standalone_question or item.question,
                    "retrieved_contexts": contexts,
                    "response": o.text,
                    "reference": item.reference,
                    "id": item.id, "category": item.category, "backend": run.backend,
                    "history": item.history_messages(), "answerable": item.answerable,
                    "refused": o.refused, "error": o.error,
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    return n
