"""What the page does, without the layout: asking, streaming, choosing citations, uploading.

``ChatController`` holds the ``Assistant`` and the ``Ingestor`` and exposes one method per
page event, so ``ui/app.py`` only wires components and these methods stay testable with a
fake assistant. Two histories are kept on purpose: the chatbot shows HTML (cards, headings)
while ``ask()`` gets the plain answer texts, so the conversation memory never sees markup.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import Answer, AssistantError, Document
from ingest.loaders import SUPPORTED
from ui import render

log = logging.getLogger(__name__)

PENDING_HTML = '<div class="dq-answer dq-pending"><i>Reading the documents…</i></div>'
BACKENDS = ("extractive", "llm")
STREAM_STEP_WORDS = 3
STREAM_DELAY_S = 0.025

Messages = list[dict[str, str]]


def _chunks(text: str, words: int = STREAM_STEP_WORDS) -> Iterator[str]:
    """Growing prefixes of ``text`` a few words at a time (markers like "[1]" stay whole)."""
    tokens = re.findall(r"\S+\s*", text)
    for i in range(words, len(tokens), words):
        yield "".join(tokens[:i])


def _with_reply(chat: Messages, html: str) -> Messages:
    """A new chat list whose last (assistant) message is ``html``: each yield is its own value."""
    return [*chat[:-1], {"role": "assistant", "content": html}]


class ChatController:
    """The page's behaviour over one ``Assistant`` and one ``Ingestor``."""

    def __init__(self, assistant: Any, ingestor: Any, stream_delay: float = STREAM_DELAY_S) -> None:
        self.assistant = assistant
        self.ingestor = ingestor
        self.stream_delay = stream_delay

    # -- documents ---------------------------------------------------------------------------------
    def documents(self) -> dict[str, Document]:
        """The indexed documents, or none when the index is empty or missing (uploads can fix it)."""
        try:
            return dict(self.assistant.documents)
        except AssistantError as exc:
            log.warning("no documents: %s", exc)
            return {}

    def doc_choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) pairs for the document selectors, titles first for people."""
        docs = self.documents()
        return [(render.doc_label(d, docs) + (f" ({d})" if docs[d].title and docs[d].title != d else ""), d)
                for d in sorted(docs, key=str.lower)]

    def documents_html(self) -> str:
        docs = self.documents()
        counts = {d: len(self.assistant.document_sentences(d)) for d in docs}
        return render.documents_html(docs, counts)

    def source_html(self, doc_id: str | None, answer: Answer | None = None, active: int | None = None) -> str:
        """The source panel for ``doc_id`` (falling back to the first document)."""
        docs = self.documents()
        if doc_id not in docs:
            doc_id = min(docs, key=str.lower) if docs else None
        doc = docs.get(doc_id) if doc_id else None
        spans = render.spans_for(answer, doc.doc_id) if doc else []
        note = ""
        if answer is not None and not spans and not answer.error:
            note = "The latest answer cites no sentence in this document."
        return render.source_panel_html(doc, spans, active, note)

    # -- asking ------------------------------------------------------------------------------------
    @staticmethod
    def _evidence(answer: Answer) -> list[Any]:
        return list(answer.related if answer.refused else answer.citations)

    def _ask(self, question: str, history: Messages, doc_ids: Sequence[str] | None, top_k: float | None,
             backend: str | None) -> tuple[Answer | None, str]:
        """Call the assistant; a crash becomes a message for the chat rather than a dead page."""
        try:
            answer = self.assistant.ask(question, history, doc_ids=list(doc_ids or []) or None,
                                        top_k=int(top_k) if top_k else None,
                                        backend=backend if backend in BACKENDS else None)
            return answer, ""
        except AssistantError as exc:
            return None, str(exc)
        except Exception as exc:  # an answer backend may fail in any way; the page must survive
            log.exception("ask failed")
            hint = " (the “llm” backend needs an OpenAI-compatible server)" if backend == "llm" else ""
            return None, f"The answer backend failed{hint}: {type(exc).__name__}: {exc}"

    def respond(self, question: str, chat: Messages, history: Messages, doc_ids: list[str] | None,
                top_k: float | None, backend: str | None) -> Iterator[tuple[Any, ...]]:
        """Answer one question, yielding the chat as the answer grows.

        Yields (question box, chat, history, last answer, citation selector, viewed document,
        source panel); while streaming only the chat changes.
        """
        question = (question or "").strip()
        if not question:
            yield (gr.skip(),) * 7
            return
        chat = [*chat, {"role": "user", "content": render.esc(question)},
                {"role": "assistant", "content": PENDING_HTML}]
        skip = (gr.skip(),) * 4
        yield ("", chat, gr.skip(), *skip)
        answer, failure = self._ask(question, history, doc_ids, top_k, backend)
        if answer is None:
            chat = _with_reply(chat, render.error_html(failure))
            yield (gr.skip(), chat, gr.skip(), *skip)
            return
        docs = self.documents()
        if not answer.error:
            for prefix in _chunks(answer.text):
                chat = _with_reply(chat, render.answer_html(answer, docs, partial=prefix))
                yield (gr.skip(), chat, gr.skip(), *skip)
                time.sleep(self.stream_delay)
        chat = _with_reply(chat, render.answer_html(answer, docs))
        if not answer.error:
            history = [*history, {"role": "user", "content": question},
                       {"role": "assistant", "content": answer.text}]
        evidence = self._evidence(answer)
        choices = render.citation_choices(answer, docs)
        first_doc = evidence[0].doc_id if evidence else None
        radio = gr.update(choices=choices, value=choices[0][1] if choices else None,
                          visible=bool(choices))
        view = gr.update(value=first_doc) if first_doc else gr.skip()
        source = self.source_html(first_doc, answer, 1 if evidence else None) if first_doc else gr.skip()
        yield (gr.skip(), chat, history, answer, radio, view, source)

    def choose_citation(self, choice: str | None, answer: Answer | None) -> tuple[Any, str]:
        """Show the chosen citation's document with that sentence marked as active."""
        if answer is None or not choice:
            return gr.skip(), gr.skip()
        evidence = self._evidence(answer)
        n = int(choice)
        if not 1 <= n <= len(evidence):
            return gr.skip(), gr.skip()
        doc_id = evidence[n - 1].doc_id
        return gr.update(value=doc_id), self.source_html(doc_id, answer, n)

    def view_document(self, doc_id: str | None, answer: Answer | None) -> str:
        """Switch the source panel to another document (keeping the answer's highlights)."""
        return self.source_html(doc_id, answer)

    def clear(self) -> tuple[Any, ...]:
        """Forget the conversation: chat, memory, last answer, selector and highlights."""
        docs = self.documents()
        first = min(docs, key=str.lower) if docs else None
        return ([], [], None, gr.update(choices=[], value=None, visible=False), "",
                gr.update(value=first), self.source_html(first))

    # -- uploads -----------------------------------------------------------------------------------
    def _check_file(self, path: Path, name: str) -> str:
        """Why a file cannot be indexed before reading it (type, emptiness, size); '' if fine."""
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED:
            return (f"unsupported file type {suffix or '(none)'}; "
                    f"use {', '.join(sorted({'.txt', '.md', '.html', '.pdf'}))}")
        try:
            size = path.stat().st_size
        except OSError as exc:
            return f"could not be read ({exc.strerror or exc})"
        if size == 0:
            return "is empty (0 bytes)"
        limit = self.assistant.settings.max_file_bytes
        if size > limit:
            return f"is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit"
        return ""

    def upload(self, files: Sequence[str] | str | None, progress: gr.Progress | None = None
               ) -> tuple[Any, ...]:
        """Index uploaded files, then reload the assistant so the next question sees them.

        Returns (status, documents list, document filter, viewer, source panel, cleared file box).
        """
        paths = [files] if isinstance(files, str) else list(files or [])
        lines: list[render.UploadLine] = []
        changed: list[str] = []
        for i, raw in enumerate(paths):
            path = Path(raw)
            name = path.name
            if progress is not None:
                progress((i, len(paths)), desc=f"Indexing {name}")
            problem = self._check_file(path, name)
            if problem:
                lines.append(render.UploadLine(name, False, problem))
                continue
            try:
                report = self.ingestor.ingest_upload(name, path.read_bytes())
            except Exception as exc:  # a broken file or store must not take the page down
                log.exception("upload of %s failed", name)
                why = f"could not be indexed ({type(exc).__name__}: {exc})"
                lines.append(render.UploadLine(name, False, why))
                continue
            lines.extend(self._report_lines(name, report))
            changed += report.added + report.replaced
        if changed:
            self.assistant.reload()
        if progress is not None and paths:
            progress((len(paths), len(paths)), desc="Done")
        choices = self.doc_choices()
        viewer = gr.update(choices=choices, value=changed[-1]) if changed else gr.update(choices=choices)
        source = self.source_html(changed[-1]) if changed else gr.skip()
        return (render.upload_summary_html(lines), self.documents_html(), gr.update(choices=choices),
                viewer, source, None)

    @staticmethod
    def _report_lines(name: str, report: Any) -> list[render.UploadLine]:
        """Turn an ``IngestReport`` into lines people can act on."""
        lines = [render.UploadLine(name, False, getattr(e, "reason", None) or str(e)) for e in report.errors]
        for doc_id in report.added:
            lines.append(render.UploadLine(doc_id, True, f"added — {report.sentences} sentences, "
                                                         f"{report.seconds:.1f} s; you can ask about it now"))
        for doc_id in report.replaced:
            lines.append(render.UploadLine(doc_id, True, f"replaced the earlier version — {report.sentences} "
                                                         f"sentences, {report.seconds:.1f} s"))
        for doc_id in report.unchanged:
            lines.append(render.UploadLine(doc_id, True, "already indexed, unchanged"))
        return lines
