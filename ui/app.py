"""The page layout: chat on the left, evidence and documents on the right, wired to handlers.

``build_app(assistant, ingestor)`` takes both objects instead of creating them so tests can
run the page over a temporary index (or a fake). Launch with ``style.launch_options()``.
Nothing about the documents is fixed when the page is built: every list is read from the
index when a page loads and after every change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.files import FileKeeper, discarding  # uploaded temp files go once indexed or refused
from ui.handlers import BACKENDS, ChatController
from ui.indexer import Indexer
from ui.library import Library
from ui.style import SCROLL_JS
from ui.uploads import DocumentsController

TITLE = "DocQA — ask your documents"
SUBTITLE = ("Every answer quotes the exact sentences it comes from — and says so when the "
            "documents don't.")
EXAMPLES = (
    "Where was the meeting held?",
    "How many countries agreed to send troops?",
    "How much aid did Europe give Ukraine?",
    "What did Giorgia Meloni clarify?",
    "What is the population of Brazil?",
)
UPLOAD_HELP = ".txt, .md, .html or .pdf — up to {mb:.0f} MB each. "
PRIVATE_HELP = ("Your uploads are seen only in this browser and are deleted after you close it; "
                "the shared documents stay as they are.")
SHARED_HELP = "Uploads join the shared documents (admin mode): everyone sees them."
STORAGE_KEY = "docqa-conversation-v1"
# Inputs and outputs of the handlers, by component name (see ``_layout``).
ASK_IN = ("asked", "chat", "history", "answers", "owner", "doc_filter", "top_k", "backend", "viewer",
          "source", "saved")
ASK_OUT = ("chat", "history", "answers", "viewer", "source", "saved")
# The hidden button's event takes the action the page script stored (``style.HEAD``).
ACTION_JS = "(action, ...rest) => [window.dqAction || action, ...rest]"
NEW_CHAT_OUT = ("chat", "history", "answers", "saved", "viewer", "source", "export_files")


@dataclass
class Page:
    """The components the events need, built by ``_layout``."""

    c: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.c[name]

    def __call__(self, *names: str) -> list[Any]:
        return [self.c[n] for n in names]


def _chat_column(c: dict[str, Any], examples: tuple[str, ...], settings: Any) -> None:
    c["chat"] = gr.Chatbot(elem_id="dq-chat", height=470, show_label=False, layout="bubble", buttons=[],
                           feedback_options=None, sanitize_html=True, autoscroll=False,
                           placeholder="**Ask about the documents.** Every answer cites the "
                                       "sentences it relies on; click a [n] or a card to see it.")
    with gr.Row(equal_height=True):
        c["question"] = gr.Textbox(placeholder="Ask a question about your documents…", show_label=False,
                                   lines=1, max_lines=4, scale=8, elem_id="dq-question", autofocus=True,
                                   submit_btn=False)
        c["send"] = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="dq-send")
        c["stop"] = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="dq-stop", visible=False)
    with gr.Row(elem_id="dq-chat-tools"):
        c["new_chat"] = gr.Button("New chat", size="sm", variant="secondary", elem_id="dq-new-chat")
        c["export"] = gr.Button("Export conversation", size="sm", variant="secondary", elem_id="dq-export")
    c["export_files"] = gr.File(label="Conversation (Markdown, printable page)", file_count="multiple",
                                visible=False, interactive=False, elem_id="dq-export-files")
    with gr.Row(elem_id="dq-examples"):
        c["examples"] = [gr.Button(q, size="sm", variant="secondary") for q in examples]
    with gr.Accordion("Answer settings", open=False, elem_id="dq-settings"):
        c["doc_filter"] = gr.Dropdown(choices=[], value=[], multiselect=True,
                                      label="Limit questions to these documents",
                                      info="Leave empty to search every document.", elem_id="dq-doc-filter")
        with gr.Row():
            c["top_k"] = gr.Slider(1, 30, value=settings.top_k, step=1, label="Sentences considered (top-k)",
                                   elem_id="dq-top-k")
            c["backend"] = gr.Dropdown(list(BACKENDS), value=settings.backend if settings.backend in BACKENDS
                                       else BACKENDS[0], label="Answer backend", elem_id="dq-backend",
                                       info="“llm” needs an OpenAI-compatible server.")


def _side_column(c: dict[str, Any], settings: Any) -> None:
    with gr.Tab("Evidence", elem_id="dq-tab-evidence"):
        c["viewer"] = gr.Dropdown(choices=[], value=None, label="Document", elem_id="dq-viewer",
                                  interactive=True)
        c["source"] = gr.HTML('<div class="dq-source"><div class="dq-source-empty">Loading…</div></div>',
                              elem_id="dq-source-panel")
    with gr.Tab("Documents", elem_id="dq-tab-docs") as c["docs_tab"]:
        c["upload"] = gr.File(label="Add documents", file_count="multiple", type="filepath",
                              elem_id="dq-upload", height=150)
        help_text = SHARED_HELP if settings.ui_corpus_writable else PRIVATE_HELP
        limits = UPLOAD_HELP.format(mb=settings.max_file_bytes / 1e6)
        gr.HTML(f'<div class="dq-hint">{limits}{help_text}</div>')
        c["cancel"] = gr.Button("Cancel indexing", size="sm", variant="stop", visible=False,
                                elem_id="dq-cancel")
        c["upload_status"] = gr.HTML("", elem_id="dq-upload-status")
        c["docs_list"] = gr.HTML("", elem_id="dq-docs-list")


def _layout(examples: tuple[str, ...], settings: Any) -> Page:
    c: dict[str, Any] = {}
    # Survives a reload. The secret is fixed per server start: Gradio rebuilds components when
    # it applies updates, and a fresh random secret per rebuild cost ~5 ms each time.
    c["saved"] = gr.BrowserState({}, storage_key=STORAGE_KEY, secret=secrets.token_hex(16))
    c["owner"] = gr.State("")  # this browser's token: which uploads are its own
    c["asked"] = gr.State("")  # the question being answered (the box is emptied at once)
    c["history"] = gr.State([])  # plain-text turns for ask(); the chatbot holds the HTML
    c["answers"] = gr.State({})  # chat message index -> Answer, for citation clicks and export
    gr.HTML(f'<div id="dq-header"><h1>{TITLE}</h1><p>{SUBTITLE}</p></div>')
    with gr.Row(equal_height=False):
        with gr.Column(scale=6, min_width=360):
            _chat_column(c, examples, settings)
        with gr.Column(scale=5, min_width=320):
            _side_column(c, settings)
    # The page script's channel for clicks inside HTML (citations, copy, row actions).
    c["action"] = gr.Textbox(visible="hidden", elem_id="dq-action")
    c["action_go"] = gr.Button("go", visible="hidden", elem_id="dq-action-go")
    return Page(c)


def _wire_asking(p: Page, ctl: ChatController, examples: tuple[str, ...]) -> list[Any]:
    """Question box, Ask and the examples; returns the events Stop and New chat cancel.

    ``start`` (no queue) empties the box at once and swaps Ask for Stop; then ``respond`` runs
    with no queue limit: the CPU part inside is limited by ``ChatController`` to
    ``settings.answer_workers`` at once, the rest is streaming (waiting).
    """
    ask = {"fn": ctl.respond, "inputs": p(*ASK_IN), "outputs": p(*ASK_OUT), "show_progress": "hidden",
           "concurrency_limit": None}
    start_out = p("question", "asked", "send", "stop")
    events = []
    for trigger, name in ((p["question"].submit, "ask"), (p["send"].click, None)):
        start = trigger(ctl.start, p("question"), start_out, queue=False, api_name=name,
                        api_visibility="public" if name else "private")
        events.append(start.then(**ask, api_name="answer" if name else None,
                                 api_visibility="public" if name else "private"))
    for btn, text in zip(p["examples"], examples, strict=True):
        start = btn.click(ctl.start, gr.State(text), start_out, queue=False, api_visibility="private")
        events.append(start.then(**ask, api_visibility="private"))
    for event in events:
        event.then(ctl.end, None, p("send", "stop"), queue=False, api_visibility="private").then(
            None, js=SCROLL_JS)
    return events


def _wire_documents(p: Page, ctl: ChatController, docs: DocumentsController, files: FileKeeper) -> None:
    """Uploads (one moving progress line per file, cancel), row actions and fresh lists."""
    lists_out = p("docs_list", "doc_filter", "viewer")
    show_source = {"fn": ctl.view_document, "inputs": p("viewer", "answers", "owner"),
                   "outputs": p("source"), "show_progress": "hidden", "api_visibility": "private"}
    start = p["upload"].upload(lambda: gr.update(visible=True), None, p["cancel"], queue=False,
                               api_visibility="private")
    indexing = start.then(discarding(docs.upload, files), p("upload", "owner", "doc_filter"),
                          [p["upload_status"], *lists_out, p["upload"]], show_progress="hidden",
                          api_visibility="private")
    indexing.then(lambda: gr.update(visible=False), None, p["cancel"], queue=False,
                  api_visibility="private").then(**show_source)
    p["cancel"].click(docs.cancel, p("owner"), p("upload_status"), cancels=[indexing], queue=False,
                      api_visibility="private").then(lambda: gr.update(visible=False), None, p["cancel"],
                                                     queue=False, api_visibility="private")
    p["docs_tab"].select(docs.lists, p("owner", "doc_filter", "viewer"), lists_out, show_progress="hidden",
                         api_visibility="private")

    def act(action: str, owner: str, chosen: list[str] | None, viewer: str | None, answers: Any
            ) -> tuple[Any, ...]:
        """One channel for clicks inside HTML: a citation, or a Documents-tab row action."""
        if (action or "").startswith("cite:"):
            return (*ctl.show_citation(action, answers, owner), gr.skip(), gr.skip(), gr.skip())
        status, docs_list, doc_filter, new_viewer = docs.act(action, owner, chosen, viewer)
        shown = new_viewer.get("value") if isinstance(new_viewer, dict) else viewer
        return new_viewer, ctl.view_document(shown, answers, owner), status, docs_list, doc_filter

    p["action_go"].click(act, p("action", "owner", "doc_filter", "viewer", "answers"),
                         p("viewer", "source", "upload_status", "docs_list", "doc_filter"),
                         show_progress="hidden", api_visibility="private", js=ACTION_JS
                         ).then(None, js=SCROLL_JS)


def build_app(assistant: Any, ingestor: Indexer, examples: tuple[str, ...] = EXAMPLES,
              files: FileKeeper | None = None) -> gr.Blocks:
    """Build the web chat over ``assistant`` (answers) and ``ingestor`` (uploads); ``files``
    keeps what the page writes (exports, uploads being indexed), by default the keeper of
    ``settings.upload_dir`` (pass the same one to ``server.server_options``)."""
    files = files if files is not None else FileKeeper.from_settings(assistant.settings)
    library = Library(assistant, ingestor)
    library.purge_orphans()  # uploads of browsers from an earlier run: no tab can own them now
    ctl, docs = ChatController(library, files=files), DocumentsController(library)
    with gr.Blocks(title="DocQA", analytics_enabled=False) as app:
        p = _layout(examples, assistant.settings)
        asking = _wire_asking(p, ctl, examples)
        # Cancel first, then mark the chat: an update still in flight must not overwrite the mark.
        p["stop"].click(None, cancels=asking, queue=False).then(
            ctl.stop, p("chat"), p("chat", "send", "stop"), queue=False, api_visibility="private")
        p["new_chat"].click(ctl.new_chat, p("owner"), p(*NEW_CHAT_OUT), cancels=asking, queue=False,
                            api_visibility="private").then(ctl.end, None, p("send", "stop"), queue=False,
                                                           api_visibility="private")
        p["chat"].clear(ctl.new_chat, p("owner"), p(*NEW_CHAT_OUT), queue=False, api_visibility="private")
        p["export"].click(ctl.export, p("answers", "owner"), p("export_files"), api_visibility="private")
        p["viewer"].input(ctl.view_document, p("viewer", "answers", "owner"), p("source"),
                          show_progress="hidden", api_visibility="private").then(None, js=SCROLL_JS)
        _wire_documents(p, ctl, docs, files)
        app.load(ctl.load, p("saved"), p("owner", "chat", "history", "answers", "saved", "doc_filter",
                                         "viewer", "source"), api_visibility="private").then(
            docs.lists, p("owner", "doc_filter", "viewer"), p("docs_list", "doc_filter", "viewer"),
            api_visibility="private")
        app.unload(ctl.unload)
    app.library = library  # tests and shutdown reach the clean-up timers
    app.files = files
    return app
