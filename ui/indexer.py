"""What the web chat needs from the side that indexes files (``ingest.pipeline.Ingestor``).

A protocol instead of an import: the web chat is handed its ingestor by its entry point
(``ui.__main__``), so no other module of ``ui`` imports ``ingest`` (an import-linter contract
in pyproject.toml), and tests hand it a fake. Reports are duck-typed: ``errors`` (each with a
``reason``), ``added``/``replaced``/``unchanged`` and ``summary()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from assistant import Document


class Indexer(Protocol):
    """Reads uploads, writes documents into the index and deletes them."""

    supported: frozenset[str]  # file name endings it reads (".txt", ".pdf", ...)

    def load_upload(self, name: str, data: bytes) -> Document:
        """An upload's bytes as a ``Document`` named by its file name (raises ``IngestError``)."""
        ...

    def ingest_documents(self, documents: Iterable[Document], *,
                         on_step: Callable[[str, int, int], None] | None = None) -> Any:
        """Add or replace ``documents``; ``on_step`` hears (stage, done, total) and may raise to cancel."""
        ...

    def ingest_paths(self, paths: list[Path]) -> Any:
        """Re-read files from disk and index them."""
        ...

    def delete(self, doc_id: str) -> None:
        """Remove a document and all its rows."""
        ...
