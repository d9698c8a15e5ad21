"""What an answer backend answers from, and what a backend is: ``AnswerContext``, ``AnswerBackend``.

Why here and not in ``core``: the context holds objects of the layers below the backends (the
retriever, the decision model, the support context), and typing them needs those layers; ``core``
may import none of them. The imports are for the type checker only, so importing this module
(``assistant.engine`` does, at ``import assistant``) loads nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from assistant.core.types import Answer, Document

if TYPE_CHECKING:
    import numpy as np

    from assistant.answering.decision.model import DecisionModel
    from assistant.answering.support import SentenceContext
    from assistant.core.settings import Settings
    from assistant.language.conversation import Turn
    from assistant.retrieval.retrieve import SentenceRetriever


@dataclass(frozen=True)
class AnswerContext:
    """The loaded index and the request's limits: ``retriever`` over the index's sentences,
    ``allowed`` masking them to the document filter (``None``: all), the ``decision`` model the
    extractive answerer decides with (``None``: the shipped one) and the ``support`` context over
    ``retriever.sentences`` (the index's tables) with the rules' policy."""

    retriever: SentenceRetriever
    documents: Mapping[str, Document]
    allowed: np.ndarray | None
    top_k: int
    settings: Settings
    support: SentenceContext
    decision: DecisionModel | None = None


class AnswerBackend(Protocol):
    """One way of answering a resolved question (``assistant.backends.registry`` registers them)."""

    @property
    def name(self) -> str:
        """The backend's name (``backend=`` of ``ask``)."""
        ...

    def answer(self, turn: Turn, context: AnswerContext) -> Answer:
        """Answer ``turn`` from ``context``; never raises for a question the documents do not
        answer: that is a refused ``Answer``."""
        ...
