"""``Assistant``: loads the index once and answers questions over it.

Thread-safe: the index and models are loaded once under a lock; answering only reads them.
``reload()`` swaps in a fresh snapshot after an ingest (the UI calls it after uploads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from assistant.errors import AssistantError, QuestionError
from assistant.settings import Settings
from assistant.types import Answer, Document, Message, Sentence


class Assistant:
    """Answers questions about the indexed documents with exact sentence citations."""

    def __init__(
        self, settings: Settings | None = None, *, snapshot: Any | None = None, embedder: Any | None = None
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._snapshot = snapshot
        self._embedder = embedder
        self._retriever: Any = None
        self._lock = threading.RLock()

    # -- loading -----------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if self._retriever is not None:
            return
        with self._lock:
            if self._retriever is not None:
                return
            from assistant.embedder import get_query_embedder
            from assistant.retrieve import SentenceRetriever
            from assistant.store import read_snapshot

            snapshot = self._snapshot or read_snapshot(self.settings)
            embedder = self._embedder or get_query_embedder(self.settings.resolved_model_path())
            self._snapshot = snapshot
            self._embedder = embedder
            self._retriever = SentenceRetriever(
                snapshot.sentences,
                snapshot.embeddings,
                embedder,
                dense_weight=self.settings.dense_weight,
                bm25_weight=self.settings.bm25_weight,
                fusion=self.settings.fusion,
                rrf_k=self.settings.rrf_k,
            )

    def reload(self) -> None:
        """Re-read the index (after documents were added or removed)."""
        with self._lock:
            self._snapshot = None
            self._retriever = None
        self._ensure_loaded()

    @property
    def documents(self) -> dict[str, Document]:
        self._ensure_loaded()
        return self._snapshot.documents

    @property
    def sentences(self) -> list[Sentence]:
        self._ensure_loaded()
        return self._snapshot.sentences

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        return [s for s in self.sentences if s.doc_id == doc_id]

    # -- answering ---------------------------------------------------------------------
    def ask(
        self,
        question: object,
        history: Sequence[Any] | None = None,
        *,
        doc_ids: Sequence[str] | None = None,
        top_k: int | None = None,
        backend: str | None = None,
    ) -> Answer:
        """Answer ``question`` (optionally following ``history``) from the documents.

        Never raises for a bad question: the ``Answer`` then has ``refused=True`` and
        ``error`` set to a message meant for the user. Index problems (missing or corrupt
        index) are raised as ``AssistantError`` subclasses, since no answer is possible.
        """
        from assistant.questions import clean_question

        t0 = time.perf_counter()
        raw_q = question if isinstance(question, str) else ""
        try:
            q = clean_question(question, self.settings.max_question_chars)
            messages = [Message.coerce(m) for m in (history or [])]
        except (QuestionError, TypeError, ValueError) as exc:
            return Answer(text=str(exc), refused=True, question=raw_q[:200], error=str(exc), kind="invalid")
        self._ensure_loaded()
        from assistant.conversation import resolve

        turn = resolve(q, messages, self._snapshot.sentences)
        allowed = None
        if doc_ids:
            unknown = [d for d in doc_ids if d not in self._snapshot.documents]
            if unknown:
                msg = f"Unknown document(s) {unknown}; indexed: {sorted(self._snapshot.documents)}"
                return Answer(text=msg, refused=True, question=q, error=msg, kind="invalid")
            import numpy as np  # imported late so settings' BLAS thread default applies

            wanted = set(doc_ids)
            allowed = np.array([s.doc_id in wanted for s in self._snapshot.sentences], dtype=bool)
        name = backend or self.settings.backend
        if name == "llm":
            from assistant.llm_backend import answer_with_llm

            answer = answer_with_llm(self, turn, allowed, top_k or self.settings.top_k)
        elif name == "extractive":
            from assistant.answer import answer_question

            answer = answer_question(
                turn, self._retriever, self._snapshot.documents, allowed, top_k or self.settings.top_k
            )
        else:
            raise AssistantError(f"unknown backend {name!r}; use 'extractive' or 'llm'")
        return replace(
            answer, question=q, timings={**answer.timings, "total_ms": (time.perf_counter() - t0) * 1000}
        )


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The process-wide assistant over the configured index (built on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
        return _default


def ask(question: object, history: Sequence[Any] | None = None, **kwargs: Any) -> Answer:
    """Answer ``question`` from the indexed documents; see ``Assistant.ask``."""
    return default_assistant().ask(question, history, **kwargs)
