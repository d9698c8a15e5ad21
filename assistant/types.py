"""Public import path kept for users: the types live in ``assistant.core.types``.

Code in this project imports ``assistant.core.types`` (an import-linter contract checks it)."""

from assistant.backends.context import AnswerBackend, AnswerContext
from assistant.core.types import (
    Answer,
    Citation,
    DecisionTrace,
    Document,
    Entity,
    Message,
    QuestionKind,
    Reason,
    Role,
    Sentence,
)

__all__ = ["Answer", "AnswerBackend", "AnswerContext", "Citation", "DecisionTrace", "Document", "Entity",
           "Message", "QuestionKind", "Reason", "Role", "Sentence"]
