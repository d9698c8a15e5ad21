"""The page layout: chat on the left, evidence and documents on the right, wired to handlers.

``build_app(assistant, ingestor)`` takes both objects instead of creating them so tests can
run the page over a temporary index (or a fake). Launch with ``style.launch_options()``.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.handlers import BACKENDS, ChatController
from ui.style import SCROLL_JS

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
UPLOAD_HELP = ".txt, .md, .html or .pdf — up to {mb:.0f} MB each"


def build_app(assistant: Any, ingestor: Any, examples: tuple[str, ...] = EXAMPLES) -> gr.Blocks:
    """Build the web chat over ``assistant`` (answers) and ``ingestor`` (uploads)."""
    ctl = ChatController(assistant, ingestor)
    docs = ctl.documents()
    first_doc = min(docs, key=str.lower) if docs else None
    max_mb = assistant.settings.max_file_bytes / 1e6

    with gr.Blocks(title="DocQA", analytics_enabled=False) as app:
        history = gr.State([])  # plain-text turns for ask(); the chatbot holds the HTML
        last_answer = gr.State(None)

        gr.HTML(f'<div id="dq-header"><h1>{TITLE}</h1><p>{SUBTITLE}</p></div>')
        with gr.Row(equal_height=False):
            with gr.Column(scale=6, min_width=420):
                chat = gr.Chatbot(elem_id="dq-chat", height=470, show_label=False, layout="bubble",
                                  buttons=["copy"], feedback_options=None, sanitize_html=True,
                                  placeholder="**Ask about the documents.** Every answer cites the "
                                              "sentences it relies on.")
                with gr.Row(equal_height=True):
                    question = gr.Textbox(placeholder="Ask a question about your documents…",
                                          show_label=False, lines=1, max_lines=4, scale=8,
                                          elem_id="dq-question", autofocus=True, submit_btn=False)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="dq-send")
                    clear = gr.Button("Clear chat", variant="secondary", scale=1, min_width=110,
                                      elem_id="dq-clear")
                with gr.Row(elem_id="dq-examples"):
                    example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in examples]
                with gr.Accordion("Answer settings", open=False, elem_id="dq-settings"):
                    doc_filter = gr.Dropdown(choices=ctl.doc_choices(), value=[], multiselect=True,
                                             label="Limit questions to these documents",
                                             info="Leave empty to search every document.",
                                             elem_id="dq-doc-filter")
                    with gr.Row():
                        top_k = gr.Slider(1, 30, value=assistant.settings.top_k, step=1,
                                          label="Sentences considered (top-k)", elem_id="dq-top-k")
                        backend = gr.Dropdown(list(BACKENDS), value=assistant.settings.backend
                                              if assistant.settings.backend in BACKENDS else BACKENDS[0],
                                              label="Answer backend", elem_id="dq-backend",
                                              info="“llm” needs an OpenAI-compatible server.")
            with gr.Column(scale=5, min_width=360):
                with gr.Tab("Evidence", elem_id="dq-tab-evidence"):
                    cite_pick = gr.Radio(choices=[], label="Show a citation in its document", visible=False,
                                         elem_id="dq-cite-pick")
                    viewer = gr.Dropdown(choices=ctl.doc_choices(), value=first_doc, label="Document",
                                         elem_id="dq-viewer", interactive=True)
                    source = gr.HTML(ctl.source_html(first_doc), elem_id="dq-source-panel")
                with gr.Tab("Documents", elem_id="dq-tab-docs"):
                    upload = gr.File(label="Add documents", file_count="multiple", type="filepath",
                                     elem_id="dq-upload", height=150)
                    gr.HTML(f'<div class="dq-hint">{UPLOAD_HELP.format(mb=max_mb)}. Files with the same name '
                            'replace the earlier version.</div>')
                    upload_status = gr.HTML("", elem_id="dq-upload-status")
                    docs_list = gr.HTML(ctl.documents_html(), elem_id="dq-docs-list")

        ask_inputs = [question, chat, history, doc_filter, top_k, backend]
        ask_outputs = [question, chat, history, last_answer, cite_pick, viewer, source]
        # `.input` (not `.change`) so the handler's own updates to the selectors do not echo back.
        for trigger in (question.submit, send.click):
            trigger(ctl.respond, ask_inputs, ask_outputs, show_progress="hidden").then(
                None, js=SCROLL_JS)
        for btn, text in zip(example_buttons, examples, strict=True):
            btn.click(lambda t=text: t, None, question, queue=False).then(
                ctl.respond, ask_inputs, ask_outputs, show_progress="hidden").then(None, js=SCROLL_JS)
        cite_pick.input(ctl.choose_citation, [cite_pick, last_answer], [viewer, source],
                        show_progress="hidden").then(None, js=SCROLL_JS)
        viewer.input(ctl.view_document, [viewer, last_answer], source, show_progress="hidden").then(
            None, js=SCROLL_JS)
        cleared = [chat, history, last_answer, cite_pick, upload_status, viewer, source]
        clear.click(ctl.clear, None, cleared, queue=False)
        chat.clear(ctl.clear, None, cleared, queue=False)  # the chatbot's own bin icon forgets too
        def on_upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            return ctl.upload(files, progress)

        upload.upload(on_upload, upload, [upload_status, docs_list, doc_filter, viewer, source, upload],
                      show_progress="full")
    return app
