"""A draft answer being composed, and the small helpers every answering stage shares.

Why its own module: the stages of ``assistant.answering.answer`` and the specialised composers
(``assistant.answering.arithmetic``, ``assistant.answering.premises``) all build the same kind of draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answering.support import SentenceContext
from assistant.core.types import Reason, Sentence

REFUSAL_NOT_STATED = "The documents do not say"


@dataclass
class Draft:
    """An answer being composed: text with [n] markers that index ``sentences``."""

    text: str = ""
    sentences: list[Sentence] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    short: str = ""
    confidence: float = -1.0  # the decision model's P(right), set when it decides
    reason: Reason = Reason.ANSWERED

    def cite(self, s: Sentence, score: float) -> int:
        for i, have in enumerate(self.sentences):
            if have.key == s.key:
                return i + 1
        self.sentences.append(s)
        self.scores.append(score)
        return len(self.sentences)


def neighbour(ctx: SentenceContext, i: int, step: int) -> int | None:
    j = i + step
    if (
        0 <= j < len(ctx.sentences)
        and ctx.sentences[j].doc_id == ctx.sentences[i].doc_id
        and not ctx.sentences[j].is_heading
    ):
        return j
    return None


def join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
