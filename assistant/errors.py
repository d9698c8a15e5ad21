"""Public import path kept for users: the errors live in ``assistant.core.errors``.

Code in this project imports ``assistant.core.errors`` (an import-linter contract checks it)."""

from assistant.core.errors import (
    AssistantError,
    BackendError,
    IndexCorruptError,
    IndexMissingError,
    IndexUnreachableError,
    IngestError,
    QuestionError,
)

__all__ = ["AssistantError", "BackendError", "IndexCorruptError", "IndexMissingError",
           "IndexUnreachableError", "IngestError", "QuestionError"]
