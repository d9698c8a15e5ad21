"""Answers questions about documents and proves every answer with exact source sentences.

from assistant import ask
a = ask("Where was the meeting held?")
a.text, a.refused, a.citations, a.short_answer, a.confidence, a.certainty
"""

from assistant.core.errors import (
    AssistantError,
    BackendError,
    IndexCorruptError,
    IndexMissingError,
    IngestError,
    QuestionError,
)
from assistant.core.types import Answer, Citation, DecisionTrace, Document, Entity, Message, Sentence
from assistant.engine import Assistant, ask, default_assistant

__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "BackendError",
    "Citation",
    "DecisionTrace",
    "Document",
    "Entity",
    "IndexCorruptError",
    "IndexMissingError",
    "IngestError",
    "Message",
    "QuestionError",
    "Sentence",
    "ask",
    "default_assistant",
]
