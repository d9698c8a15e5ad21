"""Turn a follow-up into a standalone question using the conversation so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.types import Message, Sentence


@dataclass(frozen=True)
class Turn:
    """The question as the answerer sees it, after resolving the conversation."""

    question: str  # what the user typed (cleaned)
    query: str  # the standalone question used for retrieval and answering
    previous_keys: tuple[tuple[str, int], ...] = ()  # sentences the last answer relied on
    follow_up: bool = False
    wants_next: bool = False
    notes: list[str] = field(default_factory=list)


def resolve(question: str, history: list[Message], sentences: list[Sentence]) -> Turn:
    return Turn(question=question, query=question)
