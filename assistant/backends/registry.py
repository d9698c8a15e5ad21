"""The answer backends and their registry: ``get_backend("extractive").answer(turn, context)``.

Why a registry: the engine picks a backend by name (settings, ``ask(backend=...)``, the UI)
and must not know how each one works; a new backend (a hosted model, another reader)
registers itself here and the engine, CLI and eval pick it up unchanged. Backends import
their heavy modules only when they first answer, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.backends.context import AnswerBackend, AnswerContext
from assistant.core.types import Answer


@dataclass(frozen=True)
class ExtractiveBackend:
    """The grounded extractive answerer (``assistant.answering.answer``), deciding with the context's
    decision model (``context.decision``; the shipped one when unset)."""

    name: str = "extractive"

    def answer(self, turn: Any, context: AnswerContext) -> Answer:
        from assistant.answering.answer import answer_question
        from assistant.answering.decision import load_decision_model

        model = context.decision if context.decision is not None else load_decision_model()
        return answer_question(
            turn, context.retriever, context.documents, context.allowed, context.top_k, model, context.support
        )


@dataclass(frozen=True)
class LLMBackend:
    """An OpenAI-compatible LLM over retrieved sentences (``assistant.backends.llm_backend``); ``chat``
    replaces the server (tests pass a fake)."""

    name: str = "llm"
    chat: Callable[[list[dict[str, str]]], str] | None = None

    def answer(self, turn: Any, context: AnswerContext) -> Answer:
        from assistant.backends.llm_backend import answer_from_context

        return answer_from_context(turn, context, chat=self.chat)


def llm_with_fallback() -> AnswerBackend:
    """What ``backend="llm"`` means: the LLM, with the extractive answer when its reply cannot
    be verified or its server fails mid-answer (``assistant.backends.llm_fallback``)."""
    from assistant.backends.llm_fallback import FallbackBackend

    return FallbackBackend(primary=LLMBackend(), secondary=ExtractiveBackend())


_REGISTRY: dict[str, Callable[[], AnswerBackend]] = {
    "extractive": ExtractiveBackend,
    "llm": llm_with_fallback,
}


def register_backend(name: str, factory: Callable[[], AnswerBackend]) -> None:
    """Make ``factory()`` the backend called ``name`` (replaces one of the same name)."""
    _REGISTRY[name] = factory


def backend_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_backend(name: str) -> AnswerBackend:
    """The backend called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown answer backend {name!r}; known: {', '.join(_REGISTRY)}") from None
    return factory()
