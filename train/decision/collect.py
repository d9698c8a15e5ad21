"""Run the answerer over training questions and record what its decisions see.

One ``Record`` per question: every candidate sentence's features and whether it holds the gold
answer (its gold evidence sentence), and — when the answerer got as far as the learned decision —
the answer's features and whether the direct answer is strictly right (``eval.metrics``). The
answerer runs with the model being fitted and its answer threshold at 0, so every question that
reaches the decision is answered and can be labelled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from assistant.answering.decision import DecisionModel
from assistant.core.settings import Settings
from eval import metrics as m
from eval import squad
from eval.matching import fact_present
from eval.runner import outcome_of
from eval.suites import ensure_index
from train.decision.data import TrainingSet


@dataclass(frozen=True)
class Record:
    """What one question gave the decisions (``answer_features`` empty: a rule decided first)."""

    item_id: str
    group: str
    answerable: bool
    kind: str
    reason: str
    candidate_features: list[list[float]]
    candidate_labels: list[int]
    answer_features: list[float]
    right: bool  # the answer, as given with the threshold at 0, is strictly right
    # the direct-answer options of the sentence answered from, and which of them the gold states
    span_features: list[list[float]] = field(default_factory=list)
    span_labels: list[int] = field(default_factory=list)


def always_answer(model: DecisionModel) -> DecisionModel:
    """``model`` with both thresholds at 0: every question that reaches the decision is answered,
    and asserted (the hedged form is the same direct answer, but one text to label is simpler)."""
    return replace(model, answer_threshold=0.0, confident_threshold=0.0)


def collect(
    sets: Iterable[TrainingSet], model: DecisionModel, settings: Settings, k: int = 8, log=print
) -> Iterator[Record]:  # type: ignore[no-untyped-def]
    """Yield one ``Record`` per item of ``sets``, answered with ``model`` (threshold 0)."""
    from assistant import Assistant

    for ts in sets:
        folder = ensure_index(ts.qs, settings, log=log)
        bot = Assistant(replace(settings, index_dir=folder, chroma_host=""))
        bot.use_decision_model(always_answer(model))
        t0 = time.perf_counter()
        for item in ts.items:
            scope = {"doc_ids": [item.doc_id]} if item.doc_id else {}
            answer = bot.ask(item.question, item.history_messages(), **scope)
            outcome = outcome_of(item, answer, 0.0, k)
            yield _record(ts.group, item, answer, m.answer_correct_strict(item, outcome))
        log(f"{ts.group}: {len(ts.items)} questions in {time.perf_counter() - t0:.0f} s")


def _record(group: str, item, answer, right: bool) -> Record:  # type: ignore[no-untyped-def]
    trace = answer.trace
    gold = item.evidence_keys if item.answerable else frozenset()
    cands = list(trace.candidates) if trace else []
    return Record(
        item_id=item.id,
        group=group,
        answerable=item.answerable,
        kind=answer.kind,
        reason=str(answer.reason),
        candidate_features=[list(r) for r in trace.candidate_features] if trace else [],
        candidate_labels=[int(tuple(c) in gold) for c in cands],
        answer_features=list(trace.answer_features) if trace else [],
        right=right,
        span_features=[list(r) for r in trace.span_features] if trace else [],
        span_labels=[
            int(item.answerable and states_gold(item, t)) for t in (trace.span_texts if trace else ())
        ],
    )


def states_gold(item, text: str) -> bool:  # type: ignore[no-untyped-def]
    """Does the direct-answer option ``text`` give ``item``'s gold answer (as strict scoring
    would judge it given alone)?"""
    if item.benchmark == "squad2":
        return squad.answer_hit([a for fact in item.must for a in fact], text)
    return any(fact_present(text, alts) for alts in item.must)


def write(records: Iterable[Record], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(asdict(r)) + "\n")
            n += 1
    return n


def read(path: Path) -> list[Record]:
    return [Record(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]
