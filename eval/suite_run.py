"""Run question sets, each over its own index, through the answerer and the plain baseline.

One ``SetResult`` per set holds the scores per split (``dev``, ``test``) for the system and
the baseline, the failure causes, and per-item records of the *dev* split only: the test split
is reported in aggregate so nobody tunes on its items one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.core.settings import Settings
from eval import metrics as m
from eval.baseline import baseline_outcomes
from eval.calibration import Calibration, calibration
from eval.dataset import SPLITS, GoldItem, select
from eval.failures import failure_reason, group_by_answer_reason, group_failures
from eval.records import Outcome
from eval.runner import run_backend
from eval.scoring import Scores, score
from eval.suites import CACHE_DIR, QuestionSet, ensure_index


@dataclass
class SplitResult:
    """Scores of one split: the answerer's, the baseline's, and why the answerer failed."""

    system: Scores
    baseline: Scores
    failures: dict[str, int]
    answer_reasons: dict[str, int]
    calibration: Calibration | None = None


@dataclass
class SetResult:
    name: str
    note: str
    every: int
    n_items: int
    index_dir: str
    seconds: float
    error: str = ""
    splits: dict[str, SplitResult] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)


def _record(item: GoldItem, o: Outcome, base: Outcome, k: int) -> dict[str, Any]:
    return {"id": item.id, "category": item.category, "question": item.question,
            "answerable": item.answerable, "strict": m.answer_correct_strict(item, o),
            "lenient": m.answer_correct(item, o), "failure": failure_reason(item, o, k),
            "refused": o.refused, "direct": m.direct_answer(o), "answer": o.text, "reason": o.reason,
            "reference": item.reference, "baseline_strict": m.answer_correct_strict(item, base),
            "error": o.error}


def run_set(qs: QuestionSet, settings: Settings, backend: str | None, k: int, progress: bool = True,
            log: Callable[[str], object] = print, cache: Path = CACHE_DIR,
            split: str | None = None) -> SetResult:
    """Index (once), answer every item (of ``split`` only, when given), run the baseline, score
    per split."""
    from assistant import Assistant

    t0 = time.perf_counter()
    items = select(qs.load(), split=split)
    folder = ensure_index(qs, settings, cache, log)
    result = SetResult(qs.name, qs.note, qs.every, len(items), str(folder), 0.0)
    assistant = Assistant(replace(settings, index_dir=folder, chroma_host=""))
    run = run_backend(assistant, items, backend, k, progress=progress)
    if run.failed:
        result.error = run.error
        return result
    base = {o.item_id: o for o in baseline_outcomes(assistant, items, k)}
    by_id = {it.id: it for it in items}
    for split in SPLITS:
        pairs = [(by_id[o.item_id], o) for o in run.outcomes if by_id[o.item_id].split == split]
        if not pairs:
            continue
        base_pairs = [(it, base[it.id]) for it, _ in pairs]
        result.splits[split] = SplitResult(score(pairs, k), score(base_pairs, k), group_failures(pairs, k),
                                           group_by_answer_reason(pairs, k), calibration(pairs))
    result.items = [_record(by_id[o.item_id], o, base[o.item_id], k) for o in run.outcomes
                    if by_id[o.item_id].split == "dev"]
    result.seconds = time.perf_counter() - t0
    return result


def run_sets(sets: Sequence[QuestionSet], settings: Settings, backend: str | None, k: int,
             progress: bool = True, log: Callable[[str], object] = print,
             split: str | None = None) -> list[SetResult]:
    return [run_set(qs, settings, backend, k, progress, log, split=split) for qs in sets]

