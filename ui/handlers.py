"""What the page does when people ask, click a citation, stop, start over or export.

``ChatController`` exposes one method per page event, so ``ui/app.py`` only wires components
and these methods stay testable with a fake assistant. Two histories are kept on purpose: the
chatbot shows HTML (cards, headings) while ``ask()`` gets the plain answer texts, so the
conversation memory never sees markup. Answers are computed at most ``answer_workers`` at
once (the CPU work; ``ask()`` is thread-safe), while showing them a few words at a time is
only waiting and never holds a slot another visitor needs.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import gradio as gr

from assistant import Answer, AssistantError
from ui import export, labels, render, session
from ui.files import FileKeeper
from ui.library import Library, new_owner
from ui.session import Answers, Messages

log = logging.getLogger(__name__)

PENDING_HTML = '<div class="dq-answer dq-pending"><i>Reading the documents…</i></div>'
STOPPED_NOTE = '<div class="dq-foot">stopped — ask again to see the whole answer</div>'
BACKENDS = ("extractive", "llm")
STREAM_STEP_WORDS = 3
STREAM_MAX_STEPS = 6  # a long answer takes bigger steps: each update costs the server ~8 ms of CPU
STREAM_DELAY_S = 0.04
CITE_ACTION = re.compile(r"cite:(\d{1,6})-(\d{1,4})")


def _chunks(text: str, words: int = STREAM_STEP_WORDS) -> Iterator[str]:
    """Growing prefixes of ``text`` a few words at a time (markers like "[1]" stay whole)."""
    tokens = re.findall(r"\S+\s*", text)
    words = max(words, -(-len(tokens) // STREAM_MAX_STEPS))
    for i in range(words, len(tokens), words):
        yield "".join(tokens[:i])


def _with_reply(chat: Messages, html: str) -> Messages:
    """A new chat list whose last (assistant) message is ``html``: each yield is its own value."""
    return [*chat[:-1], {"role": "assistant", "content": html}]


def _evidence(answer: Answer) -> list[Any]:
    return list(answer.related if answer.refused else answer.citations)


def _last(answers: Answers | None) -> Answer | None:
    return answers[max(answers)] if answers else None


# ask() says so when a refusal came under a document filter. Other browsers' uploads are kept
# out with that same filter, but this visitor chose none: the note would be wrong (and would
# count other people's files).
FILTER_NOTE = re.compile(r"\s*\(The document filter is on:[^()]*\)\s*$")


def _without_filter_note(answer: Answer) -> Answer:
    text = FILTER_NOTE.sub("", answer.text)
    return answer if text == answer.text else replace(answer, text=text)


class ChatController:
    """The chat's behaviour over one ``Library`` (the assistant and the visible documents)."""

    def __init__(self, library: Library, stream_delay: float = STREAM_DELAY_S, workers: int | None = None,
                 files: FileKeeper | None = None) -> None:
        self.library = library
        self.assistant = library.assistant
        # Where exports are written: inside Gradio's upload folder, so Gradio serves them without
        # copying and the folder's sweep deletes them (a system temp folder was never cleaned).
        self.files = files if files is not None else FileKeeper.from_settings(library.assistant.settings)
        self.stream_delay = stream_delay
        self._slots = threading.BoundedSemaphore(workers or library.assistant.settings.answer_workers)

    @staticmethod
    def _viewer(docs: dict[str, Any], value: str | None) -> Any:
        """The Document selector showing ``value``, always with this browser's current choices
        (Gradio checks a value against the choices it last sent; a stale list drops the value)."""
        return gr.update(choices=labels.doc_choices(docs), value=value if value in docs else None)

    # -- the source panel --------------------------------------------------------------------------
    def source_html(self, owner: str, doc_id: str | None, answer: Answer | None = None,
                    active: int | None = None) -> str:
        """The source panel for ``doc_id`` (falling back to the first document this browser sees)."""
        docs = self.library.visible(owner)
        if doc_id not in docs:
            doc_id = min(docs, key=str.lower) if docs else None
        doc = docs.get(doc_id) if doc_id else None
        spans = render.spans_for(answer, doc.doc_id) if doc else []
        note = ""
        if answer is not None and not spans and not answer.error:
            note = "The latest answer cites no sentence in this document."
        return render.source_panel_html(doc, spans, active, note)

    # -- asking ------------------------------------------------------------------------------------
    def _answer(self, question: str, history: Messages, doc_ids: list[str] | None, top_k: float | None,
                backend: str | None) -> Answer | str:
        """Call the assistant; a crash becomes a message for the chat rather than a dead page."""
        try:
            return self.assistant.ask(question, history, doc_ids=doc_ids, top_k=int(top_k) if top_k else None,
                                      backend=backend if backend in BACKENDS else None)
        except AssistantError as exc:
            return str(exc)
        except Exception as exc:  # an answer backend may fail in any way; the page must survive
            log.exception("ask failed")
            hint = " (the “llm” backend needs an OpenAI-compatible server)" if backend == "llm" else ""
            return f"The answer backend failed{hint}: {type(exc).__name__}: {exc}"

    def _compute(self, question: str, history: Messages, owner: str, doc_filter: Sequence[str] | None,
                 top_k: float | None, backend: str | None) -> Answer | str:
        """The CPU part of answering, at most ``answer_workers`` at once across all visitors."""
        scope = self.library.scope(owner, doc_filter)
        with self._slots:
            answer = self._answer(question, history, scope, top_k, backend)
        chose = any(d in self.library.visible(owner) for d in (doc_filter or []))
        if isinstance(answer, Answer) and scope is not None and not chose:
            answer = _without_filter_note(answer)
        return answer

    @staticmethod
    def start(question: str) -> tuple[Any, ...]:
        """Before ``respond`` (no queue): empty the box at once, keep the question, Ask -> Stop.

        Returns (question box, asked, Ask, Stop).
        """
        question = (question or "").strip()
        if not question:
            return gr.skip(), "", gr.skip(), gr.skip()
        return "", question, gr.update(visible=False), gr.update(visible=True)

    @staticmethod
    def end() -> tuple[Any, Any]:
        """After an answer (or a stop): Ask is back, Stop goes."""
        return gr.update(visible=True), gr.update(visible=False)

    def respond(self, question: str, chat: Messages, history: Messages, answers: Answers, owner: str,
                doc_filter: Sequence[str] | None, top_k: float | None, backend: str | None,
                viewer: str | None, source: str, saved: Any) -> Iterator[tuple[Any, ...]]:
        """Answer one question, yielding the chat as the answer is written, then remember it.

        Yields (chat, history, answers, viewer, source, saved). While streaming the other
        outputs are given back as they came in: ``gr.skip()`` would make Gradio rebuild each of
        those components on every update, which cost more CPU than answering.
        """
        question = (question or "").strip()
        chat = session.messages(chat)  # Gradio gives each message back as a list of parts
        same = (history, answers, viewer, source, saved)
        if not question:
            yield (chat, *same)
            return
        chat = [*chat, {"role": "user", "content": render.esc(question)},
                {"role": "assistant", "content": PENDING_HTML}]
        no = len(chat) - 1
        yield (chat, *same)
        answer = self._compute(question, history, owner, doc_filter, top_k, backend)
        if isinstance(answer, str):
            yield (_with_reply(chat, render.error_html(answer)), *same)
            return
        docs = self.library.visible(owner)
        only = [labels.doc_label(d, docs) for d in (doc_filter or []) if d in docs]
        if not answer.error:
            for prefix in _chunks(answer.text):
                shown = render.answer_html(answer, docs, partial=prefix, answer_no=no)
                yield (_with_reply(chat, shown), *same)
                time.sleep(self.stream_delay)
        chat = _with_reply(chat, render.answer_html(answer, docs, answer_no=no, only=only))
        answers = {**answers, no: answer}
        if not answer.error:
            history = [*history, {"role": "user", "content": question},
                       {"role": "assistant", "content": answer.text}]
        evidence = _evidence(answer)
        first_doc = evidence[0].doc_id if evidence else None
        view = self._viewer(docs, first_doc) if first_doc else viewer
        panel = self.source_html(owner, first_doc, answer, 1) if first_doc else source
        yield (chat, history, answers, view, panel, session.dump(owner, chat, history, answers))

    def stop(self, chat: Messages) -> tuple[Any, ...]:
        """The reader stopped the answer: keep what was shown, say it stopped, forget the rest.

        Returns (chat, Ask, Stop); the stopped answer never enters the history, so a follow-up
        does not lean on words the reader did not see.
        """
        chat = session.messages(chat)
        if chat and chat[-1]["role"] == "assistant" and "dq-done" not in chat[-1]["content"]:
            html = chat[-1]["content"].replace('class="dq-answer ', 'class="dq-answer dq-done dq-stopped ', 1)
            chat = _with_reply(chat, html[: -len("</div>")] + STOPPED_NOTE + "</div>")
        return chat, gr.update(visible=True), gr.update(visible=False)

    # -- citations ---------------------------------------------------------------------------------
    def show_citation(self, action: str, answers: Answers, owner: str) -> tuple[Any, Any]:
        """A click on ``[n]`` or a card (``cite:<message>-<n>``): show that sentence in its document."""
        m = CITE_ACTION.fullmatch(action or "")
        answer = answers.get(int(m.group(1))) if m and answers else None
        if answer is None or not m:
            return gr.skip(), gr.skip()
        evidence, n = _evidence(answer), int(m.group(2))
        if not 1 <= n <= len(evidence):
            return gr.skip(), gr.skip()
        doc_id = evidence[n - 1].doc_id
        return self._viewer(self.library.visible(owner), doc_id), self.source_html(owner, doc_id, answer, n)

    def view_document(self, doc_id: str | None, answers: Answers, owner: str) -> str:
        """Switch the source panel to another document (keeping the latest answer's highlights)."""
        return self.source_html(owner, doc_id, _last(answers))

    # -- the conversation --------------------------------------------------------------------------
    def load(self, saved: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A page (re)load: the browser's owner token and conversation, and fresh document lists.

        Returns (owner, chat, history, answers, saved, document filter, viewer, source panel).
        """
        owner, chat, history, answers = session.load(saved)
        owner = owner or new_owner()
        tab = getattr(request, "session_hash", None) if request is not None else None
        if tab:
            self.library.attach(tab, owner)
        choices = labels.doc_choices(self.library.visible(owner))
        ids = [d for _label, d in choices]
        last = _last(answers)
        evidence = _evidence(last) if last else []
        first = evidence[0].doc_id if evidence and evidence[0].doc_id in ids else (ids[0] if ids else None)
        return (owner, chat, history, answers, session.dump(owner, chat, history, answers),
                gr.update(choices=choices, value=[]), gr.update(choices=choices, value=first),
                self.source_html(owner, first, last, 1 if evidence else None))

    def unload(self, request: gr.Request | None = None) -> None:
        """A tab closed (or reloaded): its browser's uploads go when no tab of it is left."""
        tab = getattr(request, "session_hash", None) if request is not None else None
        if tab:
            self.library.detach(tab)

    def new_chat(self, owner: str) -> tuple[Any, ...]:
        """Start over: chat, memory, answers and highlights (the uploads stay).

        Returns (chat, history, answers, saved, viewer, source, export files).
        """
        docs = self.library.visible(owner)
        first = min(docs, key=str.lower) if docs else None
        return ([], [], {}, session.dump(owner, [], [], {}), self._viewer(docs, first),
                self.source_html(owner, first), gr.update(value=None, visible=False))

    def export(self, answers: Answers, owner: str) -> Any:
        """The conversation as Markdown and as a printable page, offered for download (kept
        ``ui_file_grace_s`` seconds, in a folder of this browser's exports)."""
        docs = self.library.visible(owner)
        ordered = [answers[i] for i in sorted(answers or {})]
        folder = self.files.export_dir(owner)
        md, page = folder / "conversation.md", folder / "conversation.html"
        md.write_text(export.conversation_markdown(ordered, docs), encoding="utf-8")
        page.write_text(export.conversation_html(ordered, docs), encoding="utf-8")
        return gr.update(value=[str(md), str(page)], visible=True)
