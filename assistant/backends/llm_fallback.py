"""The llm backend as users get it: the LLM's verified answer, else the extractive one.

Why: a weak or failing model must never make the product say something unsupported, and it
should not leave the user with nothing either. When the LLM's reply cites nothing
(``llm_uncited``), when none of its claims survives verification (``llm_unverified``), or when
the server fails in the middle of the answer (``llm_interrupted``), the extractive answerer
answers the same turn from the same context; the ``Answer`` says so in ``fallback`` (the
code) and ``notice`` (one sentence for the user), keeps the LLM's claim counts, and its
``backend`` is "extractive" because that is who wrote it.

Not a fallback: the model declining (``model_declined``: it read the sentences and says they
do not answer) and a server that cannot be used at all (``backend_error``: the configuration
is wrong, and hiding that behind extractive answers would hide it for good). With
``Settings.llm_fallback`` off, a reply that cannot be verified stays a refusal and an
interrupted answer is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from assistant.backends.context import AnswerBackend, AnswerContext
from assistant.core.types import Answer, Reason

FALLBACK_REASONS = frozenset({Reason.LLM_UNCITED, Reason.LLM_UNVERIFIED, Reason.LLM_INTERRUPTED})
INSTEAD = "This is the extractive answer instead."
_WHY = {
    Reason.LLM_UNCITED: "The language model's reply cited none of the sentences it was given, "
    "so it is not shown.",
    Reason.LLM_UNVERIFIED: "None of the language model's claims was supported by the sentences it cited, "
    "so its reply is not shown.",
}


def notice_for(first: Answer) -> str:
    """The sentence telling the user why they read the extractive answer."""
    why = _WHY.get(Reason(first.reason)) or f"{first.notice.rstrip('.')}."
    return f"{why} {INSTEAD}"


@dataclass(frozen=True)
class FallbackBackend:
    """``primary`` (the LLM) answers; for the ``FALLBACK_REASONS`` ``secondary`` answers instead."""

    primary: AnswerBackend
    secondary: AnswerBackend
    name: str = "llm"

    def answer(self, turn: Any, context: AnswerContext) -> Answer:
        first = self.primary.answer(turn, context)
        if first.reason not in FALLBACK_REASONS:
            return first
        if not getattr(context.settings, "llm_fallback", True):
            if first.reason == Reason.LLM_INTERRUPTED:  # no answer at all: the user must see why
                return replace(first, text=first.notice, error=first.notice)
            return first
        second = self.secondary.answer(turn, context)
        llm_timings = {f"llm_{k}" if not k.startswith("llm") else k: v for k, v in first.timings.items()}
        return replace(
            second,
            fallback=str(first.reason),
            notice=notice_for(first),
            claims=first.claims,
            claims_dropped=first.claims_dropped,
            timings={**llm_timings, **second.timings},
        )
