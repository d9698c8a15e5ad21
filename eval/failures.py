"""Why a wrong answer went wrong: one cause per item, so the next change knows where to push.

The causes follow the answer pipeline (retrieve -> decide to answer -> cite -> state the direct
answer): the first stage that failed is the cause. Judged with strict scoring.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from eval import metrics as m
from eval.dataset import GoldItem
from eval.records import Outcome

REASONS: dict[str, str] = {
    "error": "the backend raised",
    "retrieval_missed": "no gold evidence sentence in the retriever's top-k",
    "refused_with_evidence": "gold evidence retrieved (top-k), but the answer refused",
    "wrong_sentence": "answered, but the cited sentences do not support the answer",
    "wrong_short_answer": "answered from supporting sentences, but the direct answer is wrong",
    "answered_unanswerable": "answered a question the documents do not answer",
}


def failure_reason(item: GoldItem, outcome: Outcome, k: int) -> str | None:
    """The cause of a strictly wrong item (a key of ``REASONS``), ``None`` when it is right."""
    if m.answer_correct_strict(item, outcome):
        return None
    if outcome.error:
        return "error"
    if not item.answerable:
        return "answered_unanswerable"
    retrieved = bool(item.evidence_keys & {r.key for r in outcome.retrieved[:k]})
    if outcome.refused:
        return "refused_with_evidence" if retrieved else "retrieval_missed"
    if m.citation_supports(item, outcome):
        return "wrong_short_answer"
    return "wrong_sentence" if retrieved else "retrieval_missed"


def group_failures(pairs: Sequence[m.Pair], k: int) -> dict[str, int]:
    """Wrong items counted by cause, in pipeline order (causes with no item left out)."""
    counts = Counter(r for it, o in pairs if (r := failure_reason(it, o, k)) is not None)
    return {r: counts[r] for r in REASONS if counts[r]}


def group_by_answer_reason(pairs: Sequence[m.Pair], k: int) -> dict[str, int]:
    """Wrong items counted by the answerer's own ``reason`` (when ``Answer`` gives one)."""
    counts = Counter(o.reason or "(none given)" for it, o in pairs if failure_reason(it, o, k) is not None)
    return dict(counts.most_common()) if any(o.reason for _, o in pairs) else {}
