"""What the system did for one gold item, reduced to what the metrics need.

Why a separate record instead of ``assistant.Answer``: metrics must stay pure and testable
with hand-made cases, and must not break when the answerer's ``Answer`` grows fields. The
runner converts each ``Answer`` into an ``Outcome`` once; everything downstream reads these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SentenceRef:
    """A sentence the system cited or retrieved: its address and its text."""

    doc_id: str
    sentence_id: int
    text: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.sentence_id)


@dataclass(frozen=True)
class Outcome:
    """The system's answer to one gold item.

    ``retrieved`` is the retrieval ranking (best first) used for recall@k and MRR.
    ``error`` is set only when the harness caught an exception (the backend crashed); such an
    outcome is never counted as correct, nor as a correct refusal. ``short_answer`` is the
    answer's direct answer (``Answer.short_answer``), judged on its own by strict scoring;
    ``reason`` is the answerer's own account of a refusal or choice when it gives one.
    """

    item_id: str
    text: str
    refused: bool
    citations: tuple[SentenceRef, ...] = ()
    retrieved: tuple[SentenceRef, ...] = ()
    latency_ms: float = 0.0
    error: str = ""
    kind: str = ""
    standalone_question: str = ""
    short_answer: str = ""
    reason: str = ""
    confidence: float = -1.0  # the answerer's P(this answer is right); -1: not judged
    certainty: str = ""  # how it was shown: confident / probable / unsure ("" not judged)
    # The llm backend's account (``Answer.fallback``, ``claims``, ``claims_dropped``) and who
    # wrote the text shown (``Answer.backend``: "extractive" after a fallback).
    fallback: str = ""
    claims: int = 0
    claims_dropped: int = 0
    written_by: str = ""
