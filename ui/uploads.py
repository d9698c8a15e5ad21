"""The Documents tab: upload with one moving progress line per file, cancel, delete, re-index.

Indexing runs in a worker thread and reports each step (texts embedded / total) through a
queue; the event handler turns those reports into one progress list, so the page shows a
single display that moves instead of Gradio's per-component overlays. Cancelling stops the
worker before it writes anything (``ingest.prepare`` only reads until the end), so a
cancelled file leaves the index exactly as it was. After every change the document lists are
rebuilt from the index, never from what the page was started with.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import gradio as gr

from assistant import AssistantError
from ui import labels, render
from ui.ids import display_name, owner_of
from ui.library import Library

log = logging.getLogger(__name__)

POLL_S = 0.2


class Cancelled(Exception):
    """Raised inside the indexing worker when the visitor pressed Cancel."""


def check_file(path: Path, limit: int, supported: Collection[str]) -> str:
    """Why a file cannot be indexed before reading it (type, emptiness, size); '' if fine.

    ``supported``: the file name endings the indexer reads (``Indexer.supported``).
    """
    suffix = path.suffix.lower()
    if suffix not in supported:
        return f"unsupported file type {suffix or '(none)'}; use .txt, .md, .html or .pdf"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"could not be read ({exc.strerror or exc})"
    if size == 0:
        return "is empty (0 bytes)"
    if size > limit:
        return f"is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit"
    return ""


class DocumentsController:
    """Uploads and the document lists for one ``Library``."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._cancel: dict[str, threading.Event] = {}
        self._rows: dict[str, list[render.FileProgress]] = {}  # the latest upload's lines, per browser

    # -- lists -------------------------------------------------------------------------------------
    def rows(self, owner: str) -> list[render.DocRow]:
        """One row per document this browser sees, with what it may do to each."""
        docs = self.library.visible(owner)
        counts: dict[str, int] = {}
        try:
            for s in self.library.assistant.sentences:
                counts[s.doc_id] = counts.get(s.doc_id, 0) + 1
        except AssistantError:
            pass
        return [render.DocRow(d, doc.title, counts.get(d, 0), len(doc.text), self.library.dated(doc),
                              mine=owner_of(d) == owner, can_delete=self.library.can_change(owner, d),
                              can_reindex=owner_of(d) is None and self.library.can_change(owner, d))
                for d, doc in docs.items()]

    def lists(self, owner: str, chosen: Sequence[str] | None = None, current: str | None = None,
              show: str | None = None) -> tuple[Any, ...]:
        """Fresh (documents list, filter, viewer) for this browser, keeping still-valid choices.

        The viewer shows ``show`` (a new upload), else what it showed if that still exists,
        else the first document, so it is never left on a value that is not in its list.
        """
        docs = self.library.visible(owner)
        choices = labels.doc_choices(docs)
        ordered = [d for _label, d in choices]
        kept = [d for d in (chosen or []) if d in docs]
        value = show if show in docs else current if current in docs else (ordered[0] if ordered else None)
        return (render.documents_html(self.rows(owner)), gr.update(choices=choices, value=kept),
                gr.update(choices=choices, value=value))

    # -- uploading ---------------------------------------------------------------------------------
    def _index_one(self, i: int, path: Path, owner: str, report: queue.Queue[Any],
                   cancel: threading.Event) -> str | None:
        """Index one file in the worker; sends FileProgress updates; returns the doc id it changed."""
        name = path.name
        problem = check_file(path, self.library.assistant.settings.max_file_bytes,
                             self.library.ingestor.supported)
        if problem:
            report.put((i, render.FileProgress(name, "failed", message=problem)))
            return None
        cold = getattr(self.library.ingestor, "_embedder", True) is None  # models not loaded yet
        report.put((i, render.FileProgress(name, "reading",
                                           message="loading the language models (first upload only)" if cold
                                           else "")))

        def step(stage: str, done: int, total: int) -> None:
            if cancel.is_set():
                raise Cancelled
            shown = "names" if stage == "sentences" else stage
            report.put((i, render.FileProgress(name, shown, done, total)))

        try:
            doc = self.library.prepare_upload(owner, name, path.read_bytes())
            result = self.library.ingestor.ingest_documents([doc], on_step=step)
        except Cancelled:
            report.put((i, render.FileProgress(name, "cancelled")))
            return None
        except Exception as exc:  # IngestError or a broken store: say so, keep the page
            log.warning("upload of %s failed: %s", name, exc)
            why = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            report.put((i, render.FileProgress(name, "failed", message=str(why))))
            return None
        if result.errors:
            err = result.errors[0]
            report.put((i, render.FileProgress(name, "failed", message=str(getattr(err, "reason", err)))))
            return None
        what = ("replaced the earlier version" if result.replaced else "already indexed, unchanged"
                if result.unchanged else "added")
        msg = what if result.unchanged else f"{what} — {result.sentences:,} sentences, {result.seconds:.1f} s"
        report.put((i, render.FileProgress(name, "done", message=msg)))
        self.library.added[doc.doc_id] = time.strftime("%Y-%m-%d %H:%M")
        return doc.doc_id if not result.unchanged else None

    def _worker(self, paths: list[Path], owner: str, report: queue.Queue[Any], cancel: threading.Event,
                changed: list[str]) -> None:
        for i, path in enumerate(paths):
            if cancel.is_set():
                report.put((i, render.FileProgress(path.name, "cancelled")))
                continue
            doc_id = self._index_one(i, path, owner, report, cancel)
            if doc_id:
                changed.append(doc_id)
        if changed:
            self.library.assistant.reload()

    def upload(self, files: Sequence[str] | str | None, owner: str, chosen: Sequence[str] | None
               ) -> Iterator[tuple[Any, ...]]:
        """Index uploaded files, showing one progress line per file; yields
        (progress, documents list, filter, viewer, file box); the lists only at the end."""
        paths = [Path(p) for p in ([files] if isinstance(files, str) else list(files or []))]
        if not paths:
            return
        rows = self._rows[owner] = [render.FileProgress(p.name, "waiting") for p in paths]
        report: queue.Queue[Any] = queue.Queue()
        cancel = self._cancel[owner] = threading.Event()
        changed: list[str] = []
        worker = threading.Thread(target=self._worker, args=(paths, owner, report, cancel, changed),
                                  daemon=True, name="docqa-upload")
        worker.start()
        skip = (gr.skip(),) * 4
        try:
            yield (render.progress_html(rows), *skip)
            while worker.is_alive() or not report.empty():
                try:
                    i, row = report.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                rows[i] = row
                while not report.empty():
                    i, row = report.get_nowait()
                    rows[i] = row
                yield (render.progress_html(rows), *skip)
        finally:
            cancel.set()  # the page went away or Cancel was pressed: stop before writing
        worker.join()
        shown = changed[-1] if changed else None
        yield (render.progress_html(rows), *self.lists(owner, chosen, None, shown), None)

    def cancel(self, owner: str) -> str:
        """The Cancel button: the worker stops at its next step; nothing half-done is written.

        Returns the progress list with every unfinished file marked cancelled (the upload
        event is cancelled too, so it cannot say so itself).
        """
        event = self._cancel.get(owner)
        if event is not None:
            event.set()
        rows = self._rows.get(owner, [])
        finished = ("done", "failed")
        return render.progress_html([r if r.stage in finished else render.FileProgress(r.name, "cancelled")
                                     for r in rows])

    # -- row actions -------------------------------------------------------------------------------
    def act(self, action: str, owner: str, chosen: Sequence[str] | None, current: str | None = None
            ) -> tuple[Any, ...]:
        """``delete:<id>`` / ``reindex:<id>`` from a row link; returns (status, list, filter, viewer)."""
        verb, _sep, raw = (action or "").partition(":")
        doc_id = unquote(raw)
        if verb == "delete":
            message = self.library.delete(owner, doc_id)
        elif verb == "reindex":
            message = self.library.reindex(owner, doc_id)
        else:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        ok = message.startswith(("deleted", f"{doc_id}: re", f"{doc_id}: unchanged"))
        line = render.FileProgress(display_name(doc_id), "note" if ok else "error", message=message)
        return (render.progress_html([line]), *self.lists(owner, chosen, current))
