"""A tiny error hierarchy whose messages name the bad value and the fix."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: every error the product raises on purpose is one of these."""


class IndexMissingError(AssistantError):
    """The index folder or its collections do not exist yet (nothing was ingested)."""


class IndexUnreachableError(IndexMissingError):
    """A Chroma server (``CHROMA_HOST``) does not answer: the index is not lost, just not there."""


class IndexCorruptError(AssistantError):
    """The index exists but cannot be read, or was built with another model."""


class IngestError(AssistantError):
    """A file could not be ingested (unreadable, empty, binary, unsupported, too large)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class QuestionError(AssistantError):
    """The question cannot be answered as given (empty, too long, not text)."""


class BackendError(AssistantError):
    """An optional answer backend (an LLM server) is unavailable or misconfigured."""
