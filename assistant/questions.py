"""Validation and clean-up of the question text before anything else sees it."""

from __future__ import annotations

import re

from assistant.errors import QuestionError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_question(raw: object, max_chars: int) -> str:
    """Return a usable question or raise ``QuestionError`` with a message for the user."""
    if raw is None:
        raise QuestionError("Please type a question.")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise QuestionError("The question is binary data, not text. Please type a question.") from None
    if not isinstance(raw, str):
        raise QuestionError(f"The question must be text, not {type(raw).__name__}.")
    text = _CONTROL.sub(" ", raw)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question: the message was empty.")
    if len(text) > max_chars:
        raise QuestionError(
            f"The question is {len(text):,} characters long; please keep it under "
            f"{max_chars:,} characters (ask about one thing at a time)."
        )
    letters = sum(ch.isalpha() for ch in text)
    if letters == 0:
        raise QuestionError(
            'The question has no words in it. Please ask in words, e.g. "Where was the meeting held?"'
        )
    if letters / max(1, len(text)) < 0.3 and len(text) > 40:
        raise QuestionError("That does not look like a question (mostly symbols or binary data).")
    return text
