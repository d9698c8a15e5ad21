"""Who sees which documents in the web chat, and whose uploads are whose.

One index serves every visitor, so uploads are kept apart by id: a browser's upload is stored
as ``session-<owner>/<file name>``, where ``owner`` is a random token kept in that browser's
storage (so a reload or a second tab of the same browser keeps its files). Everything else is
the shared corpus (what ``make index`` ingested), read-only from the web unless the admin
setting ``ASSISTANT_UI_CORPUS_WRITABLE`` is on. A browser's uploads are deleted
``ui_upload_grace_s`` seconds after its last tab closed, and at server start (no tab is open yet).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant import AssistantError, Document
from ui.ids import display_name, owner_of, upload_id
from ui.indexer import Indexer

log = logging.getLogger(__name__)

OWNER_CHARS = 16


def new_owner() -> str:
    """A fresh browser token: unguessable, so no one can read or delete another's uploads."""
    return secrets.token_hex(OWNER_CHARS // 2)


class Library:
    """The documents each browser may see and change, over one ``Assistant`` and ``Indexer``."""

    def __init__(self, assistant: Any, ingestor: Indexer) -> None:
        self.assistant = assistant
        self.ingestor = ingestor
        self.writable = bool(getattr(assistant.settings, "ui_corpus_writable", False))
        self.grace_s = float(getattr(assistant.settings, "ui_upload_grace_s", 600.0))
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}  # Gradio session -> owner token
        self._timers: dict[str, threading.Timer] = {}
        self.added: dict[str, str] = {}  # doc id -> when this server indexed it from the page

    # -- reading -----------------------------------------------------------------------------------
    def all_documents(self) -> dict[str, Document]:
        """Everything indexed (empty when the index is missing: an upload can create it)."""
        try:
            return dict(self.assistant.documents)
        except AssistantError as exc:
            log.warning("no documents: %s", exc)
            return {}

    def visible(self, owner: str) -> dict[str, Document]:
        """The shared corpus plus this browser's own uploads."""
        return {d: doc for d, doc in self.all_documents().items() if owner_of(d) in (None, owner)}

    def dated(self, doc: Document) -> str:
        """When a document was added here, else the date of its file on the server ('' unknown)."""
        if doc.doc_id in self.added:
            return self.added[doc.doc_id]
        try:
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(Path(doc.source).stat().st_mtime))
        except (OSError, ValueError):
            return ""

    def scope(self, owner: str, chosen: Sequence[str] | None) -> list[str] | None:
        """The ``doc_ids`` for ``ask()``: the chosen ones this browser may see, else all it may see.

        None (no restriction) when this browser sees the whole index, so answers are exactly
        what ``ask()`` gives without a filter.
        """
        every = self.all_documents()
        mine = self.visible(owner)
        picked = [d for d in (chosen or []) if d in mine]
        if picked:
            return picked
        return None if len(mine) == len(every) else sorted(mine)

    def can_change(self, owner: str, doc_id: str) -> bool:
        """Whether this browser may delete or re-index ``doc_id``."""
        found = owner_of(doc_id)
        return (found is not None and found == owner) or (found is None and self.writable)

    # -- changing ----------------------------------------------------------------------------------
    def prepare_upload(self, owner: str, name: str, data: bytes) -> Document:
        """Read an upload into a ``Document`` under this browser's id (raises ``IngestError``)."""
        doc = self.ingestor.load_upload(name, data)
        return doc if self.writable else replace(doc, doc_id=upload_id(owner, doc.doc_id))

    def delete(self, owner: str, doc_id: str) -> str:
        """Delete a document this browser may change; returns what happened, for people."""
        if doc_id not in self.visible(owner):  # another browser's upload is not even named
            return f"{display_name(doc_id)} is not indexed (already deleted?)"
        if not self.can_change(owner, doc_id):
            return f"{display_name(doc_id)} is part of the shared documents, which are read-only here"
        self.ingestor.delete(doc_id)
        self.assistant.reload()
        return f"deleted {display_name(doc_id)}"

    def reindex(self, owner: str, doc_id: str) -> str:
        """Index a document again from its file on the server (shared documents, admin only)."""
        doc = self.visible(owner).get(doc_id)
        if doc is None:
            return f"{display_name(doc_id)} is not indexed"
        if owner_of(doc_id) is not None or not self.can_change(owner, doc_id):
            return f"{display_name(doc_id)} cannot be re-indexed from here (upload it again instead)"
        source = Path(doc.source)
        if not doc.source or not source.is_file():
            return f"the file of {doc_id} is not on the server any more ({doc.source or 'no path'})"
        report = self.ingestor.ingest_paths([source])
        if report.errors:
            return f"{doc_id}: {report.errors[0]}"
        self.assistant.reload()
        return f"{doc_id}: " + ("unchanged" if report.unchanged else "re-indexed")

    def purge(self, owner: str) -> int:
        """Delete every upload of ``owner`` (its browser is gone); returns how many."""
        doomed = [d for d in self.all_documents() if owner_of(d) == owner]
        return self._delete_all(doomed)

    def purge_orphans(self) -> int:
        """Delete every browser upload: at server start no browser session exists yet."""
        return self._delete_all([d for d in self.all_documents() if owner_of(d) is not None])

    def _delete_all(self, doc_ids: list[str]) -> int:
        for doc_id in doc_ids:
            self.ingestor.delete(doc_id)
        if doc_ids:
            self.assistant.reload()
            log.info("deleted %d uploaded document(s)", len(doc_ids))
        return len(doc_ids)

    # -- browser sessions --------------------------------------------------------------------------
    def attach(self, session: str, owner: str) -> None:
        """A tab of ``owner``'s browser opened: keep its uploads."""
        with self._lock:
            self._sessions[session] = owner
            timer = self._timers.pop(owner, None)
        if timer is not None:
            timer.cancel()

    def detach(self, session: str) -> None:
        """A tab closed; when it was the browser's last, its uploads go after the grace period."""
        with self._lock:
            owner = self._sessions.pop(session, None)
            if owner is None or owner in self._sessions.values():
                return
            timer = threading.Timer(self.grace_s, self._expire, args=(owner,))
            timer.daemon = True
            self._timers[owner] = timer
        timer.start()

    def _expire(self, owner: str) -> None:
        with self._lock:
            if owner in self._sessions.values():
                return
            self._timers.pop(owner, None)
        try:
            self.purge(owner)
        except Exception:  # a background clean-up must never take the server down
            log.exception("could not delete the uploads of a closed browser")

    def close(self) -> None:
        """Stop pending clean-up timers (tests, server shutdown)."""
        with self._lock:
            timers = list(self._timers.values())
            self._timers.clear()
        for t in timers:
            t.cancel()
