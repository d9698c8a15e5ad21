"""Pure HTML builders for the web chat: answers, citation cards, the source panel, lists.

Kept free of Gradio so every piece of markup can be unit-tested as a string. Everything that
comes from a document, a file name or a user passes through ``esc`` exactly once, because the
chat and the source panel render raw HTML and an uploaded file may contain ``<script>``.
The output never contains blank lines: the chatbot treats a message as markdown, and a blank
line would end the HTML block and let markdown re-interpret document text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from assistant import Answer, Citation, Document
from ui import reader
from ui.export import answer_markdown
from ui.ids import display_name
from ui.labels import doc_label, position_label, quote_text

REFUSAL_HEADING = "The documents don't say"
UNSURE_HEADING = "Not sure — these passages may hold the answer"
# How sure an answer is (``Answer.certainty``, from the decision model's P(right)), as a badge.
CERTAINTY_BADGE = {"confident": "Confident", "probable": "Not certain"}
INVALID_HEADING = "That question can't be answered as asked"
BACKEND_HEADING = "The {backend} answer backend could not answer"
MARKER = re.compile(r"\[(\d{1,3})\]")
# Above this many characters the source panel shows windows around the highlights instead of
# the whole text, so a 500-page PDF does not become a multi-megabyte DOM update per answer.
MAX_PANEL_CHARS = 60_000
WINDOW_CHARS = 1_500


def esc(text: object) -> str:
    """HTML-escape any value (quotes too, since some values land in attributes)."""
    return html.escape(str(text), quote=True)


def _lines(text: str) -> str:
    """Escaped text whose line breaks survive inside an HTML block without blank lines."""
    return "<br>".join(esc(line) for line in text.split("\n"))


def cite_href(answer_no: int, n: int) -> str:
    """The link of citation ``n`` of the conversation's answer ``answer_no``.

    The chatbot's sanitizer drops data-* attributes but keeps ``href``, so the page script
    (``style.HEAD``) reads which citation was chosen from it.
    """
    return f"#dq-cite-{answer_no}-{n}"


def answer_text_html(text: str, n_citations: int, answer_no: int = 0) -> str:
    """Answer text with ``[n]`` markers turned into superscript links to their citation.

    Only markers that point at an existing citation become references, so a literal "[2019]"
    in a quoted sentence stays plain text. Links are keyboard-reachable (Tab, Enter).
    """
    def ref(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= n_citations:
            return m.group(0)
        return f'<sup class="ref"><a class="dq-ref" href="{cite_href(answer_no, n)}">[{n}]</a></sup>'

    return MARKER.sub(ref, _lines(text))


def citation_card(n: int, c: Citation, documents: Mapping[str, Document] | None = None,
                  kind: str = "source", answer_no: int = 0) -> str:
    """One card: number, document, position and the quoted sentence; a link to it in the source."""
    tag = "related" if kind == "related" else "source"
    return (f'<a class="dq-card dq-{tag}" href="{cite_href(answer_no, n)}">'
            f'<span class="dq-card-head"><span class="dq-num">{n}</span>'
            f'<span class="dq-doc">{esc(doc_label(c.doc_id, documents))}</span>'
            f'<span class="dq-pos">{esc(position_label(c))}</span>'
            f'<span class="dq-kind">{tag}</span></span>'
            f'<span class="dq-quote">{_lines(quote_text(c, documents))}</span></a>')


def citation_cards(citations: Sequence[Citation], documents: Mapping[str, Document] | None = None,
                   kind: str = "source", answer_no: int = 0) -> str:
    """The card list under an answer, with a heading that says what the cards are."""
    if not citations:
        return ""
    title = "Related sentences — on the topic, but they do not answer it" if kind == "related" \
        else "Sources"
    cards = "".join(citation_card(i, c, documents, kind, answer_no) for i, c in enumerate(citations, 1))
    return f'<div class="dq-cards dq-cards-{kind}"><div class="dq-cards-title">{title}</div>{cards}</div>'


def _footer(answer: Answer, only: Sequence[str] = ()) -> str:
    """Time, backend, and the document filter when one was on (so a refusal is read right)."""
    total = answer.timings.get("total_ms")
    took = "" if not total else f"{total:.0f} ms" if total < 1000 else f"{total / 1000:.1f} s"
    searched = f"searched only {', '.join(only)}" if only else ""
    bits = [f"answered in {took}" if took else "", answer.backend, searched]
    text = " · ".join(b for b in bits if b)
    return f'<div class="dq-foot">{esc(text)}</div>' if text else ""


def _notice(answer: Answer) -> str:
    """Why this answer is not the one the chosen backend wrote (the LLM's fell back), if so."""
    return f'<div class="dq-foot dq-notice">{esc(answer.notice)}</div>' if answer.notice else ""


def _tools(answer: Answer, documents: Mapping[str, Document] | None) -> str:
    """The copy link and, hidden, the answer as Markdown with its sources (what copy copies).

    Line breaks are written as character references: a raw blank line would end the HTML
    block inside the chatbot's Markdown.
    """
    plain = esc(answer_markdown(answer, documents)).replace("\n", "&#10;")
    return (f'<div class="dq-tools"><a class="dq-copy" href="#dq-copy">Copy answer</a></div>'
            f'<pre class="dq-plain" hidden>{plain}</pre>')


def answer_html(answer: Answer, documents: Mapping[str, Document] | None = None,
                partial: str | None = None, answer_no: int = 0, only: Sequence[str] = ()) -> str:
    """A whole assistant message: answer (or refusal), its cards, a footer and a copy link.

    ``partial`` is a prefix of ``answer.text`` while the answer is still being shown; cards
    appear only with the complete text so they never point at markers not yet on screen.
    ``answer_no`` numbers the answer in the conversation, so its links find it again.
    ``only`` names the documents the question was limited to, if it was.
    """
    if answer.error:  # "invalid" is the question's fault; anything else is the backend's
        head = INVALID_HEADING if answer.kind == "invalid" else BACKEND_HEADING.format(backend=answer.backend)
        return (f'<div class="dq-answer dq-invalid dq-done"><div class="dq-head">{esc(head)}</div>'
                f'<div class="dq-text">{_lines(answer.error)}</div>{_footer(answer)}</div>')
    shown = answer.text if partial is None else partial
    done = partial is None
    state = " dq-done" if done else ""
    end = (_notice(answer) + _footer(answer, only) + _tools(answer, documents)) if done else ""
    if answer.refused:
        head = UNSURE_HEADING if answer.certainty == "unsure" else REFUSAL_HEADING
        body = (f'<div class="dq-head">{head}</div>'
                f'<div class="dq-text">{_lines(shown)}</div>')
        extra = citation_cards(answer.related, documents, "related", answer_no) if done else ""
        return f'<div class="dq-answer dq-refused{state}">{body}{extra}{end}</div>'
    if any(reader.is_markdown(c.doc_id) for c in answer.citations):
        shown = reader.view(shown, 0, len(shown), markdown=True)  # the quoted sentences' markup
    body = (certainty_badge(answer) if done else "") + (
        f'<div class="dq-text">{answer_text_html(shown, len(answer.citations), answer_no)}</div>')
    extra = citation_cards(answer.citations, documents, "source", answer_no) if done else ""
    hedged = " dq-probable" if answer.certainty == "probable" else ""
    return f'<div class="dq-answer dq-ok{hedged}{state}">{body}{extra}{end}</div>'


def certainty_badge(answer: Answer) -> str:
    """How sure the answer is, in words and as the model's P(right) ("" when no model judged it)."""
    label = CERTAINTY_BADGE.get(answer.certainty)
    if label is None or answer.confidence < 0:
        return ""
    tip = "estimated chance that this answer is right"
    return (f'<div class="dq-conf dq-conf-{esc(answer.certainty)}" title="{tip}">'
            f'{esc(label)} · {answer.confidence:.0%} likely right</div>')


def error_html(message: str) -> str:
    """A failure of the system (not of the question), shown in the chat instead of an answer."""
    return (f'<div class="dq-answer dq-invalid dq-done"><div class="dq-head">Something went wrong</div>'
            f'<div class="dq-text">{_lines(message)}</div></div>')


# -- the source panel ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """A stretch of a document to highlight: exact offsets, its number and whether it is support."""

    start: int
    end: int
    n: int
    kind: str = "source"  # or "related"


def spans_for(answer: Answer | None, doc_id: str) -> list[Span]:
    """The highlights an answer puts into one document (citations, or related for refusals)."""
    if answer is None or answer.error:
        return []
    kind = "related" if answer.refused else "source"
    cites = answer.related if answer.refused else answer.citations
    return [Span(c.start, c.end, i, kind) for i, c in enumerate(cites, 1) if c.doc_id == doc_id]


def _windows(length: int, spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Which parts of a long text to show: merged windows around each span."""
    if length <= MAX_PANEL_CHARS:
        return [(0, length)]
    if not spans:
        return [(0, MAX_PANEL_CHARS)]
    wins: list[tuple[int, int]] = []
    for s in sorted(spans, key=lambda s: s.start):
        a, b = max(0, s.start - WINDOW_CHARS), min(length, s.end + WINDOW_CHARS)
        if wins and a <= wins[-1][1]:
            wins[-1] = (wins[-1][0], max(wins[-1][1], b))
        else:
            wins.append((a, b))
    return wins


def highlight(text: str, spans: Sequence[Span], active: int | None = None, markdown: bool = False) -> str:
    """``text`` escaped, with each span wrapped in ``<mark id="dq-mark-n">`` at its exact offsets.

    Spans are sentences, so they only coincide (never partly overlap); a span that overlaps an
    earlier one is dropped rather than producing broken nesting. The ``active`` span gets an
    extra class so the panel can show which citation was chosen. ``markdown`` hides markup on
    display (``ui.reader``); the marks still wrap exactly ``text[start:end]``.
    """
    def part(a: int, b: int) -> str:
        return esc(reader.view(text, a, b, markdown))

    out: list[str] = []
    ordered = sorted((s for s in spans if 0 <= s.start < s.end <= len(text)), key=lambda s: (s.start, s.n))
    windows = _windows(len(text), ordered)
    for wi, (a, b) in enumerate(windows):
        if wi or a > 0:
            out.append('<span class="dq-gap">…</span>')
        pos = a
        for s in ordered:
            if s.start < pos or s.end > b:
                continue
            out.append(part(pos, s.start))
            cls = f"dq-mark dq-mark-{s.kind}" + (" dq-active" if s.n == active else "")
            label = f"related {s.n}" if s.kind == "related" else str(s.n)
            out.append(f'<mark id="dq-mark-{s.n}" class="{cls}" data-n="{s.n}">'
                       f'<span class="dq-mark-n">{esc(label)}</span>{part(s.start, s.end)}</mark>')
            pos = s.end
        out.append(part(pos, b))
        if b < len(text) and wi == len(windows) - 1:
            out.append('<span class="dq-gap">…</span>')
    return "".join(out)


def source_panel_html(document: Document | None, spans: Sequence[Span] = (),
                      active: int | None = None, note: str = "") -> str:
    """The document beside the chat, cited sentences highlighted; a hint when there is none."""
    if document is None:
        return ('<div class="dq-source"><div class="dq-source-empty">No documents are indexed yet. '
                'Add a .txt, .md, .html or .pdf file under “Documents”.</div></div>')
    n_marks = len(spans)
    kind = spans[0].kind if spans else ""
    status = (f"{n_marks} related sentence{'s' * (n_marks != 1)} marked" if kind == "related"
              else f"{n_marks} cited sentence{'s' * (n_marks != 1)} highlighted" if n_marks
              else note or "Ask a question: the sentences an answer cites are highlighted here.")
    return (f'<div class="dq-source"><div class="dq-source-head">'
            f'<span class="dq-source-title">{esc(document.title or display_name(document.doc_id))}</span>'
            f'<span class="dq-source-meta">{esc(display_name(document.doc_id))} · {esc(status)}</span></div>'
            f'<div class="dq-source-body" id="dq-source-body" tabindex="0">'
            f'{highlight(document.text, spans, active, reader.is_markdown(document.doc_id))}</div></div>')


# -- documents and uploads -----------------------------------------------------------------------

@dataclass(frozen=True)
class DocRow:
    """One line of the Documents tab: what a document is and what this browser may do with it."""

    doc_id: str
    title: str
    sentences: int
    chars: int
    added: str = ""  # when it was added (or its file's date), when known
    mine: bool = False  # uploaded from this browser (temporary)
    can_delete: bool = False
    can_reindex: bool = False


def doc_action_href(action: str, doc_id: str) -> str:
    """The link of a row action ("delete", "reindex"); the page script sends it to the server."""
    return f"#dq-{action}-{quote(doc_id, safe='')}"


def _doc_row(r: DocRow) -> str:
    when = f" · {'added' if r.mine else 'dated'} {esc(r.added)}" if r.added else ""
    whose = "your upload (kept while this browser has the chat open)" if r.mine else "shared"
    actions = "".join(
        f'<a class="dq-doc-act dq-doc-{act}" href="{doc_action_href(act, r.doc_id)}">{label}</a>'
        for act, label, ok in (("reindex", "Re-index", r.can_reindex), ("delete", "Delete", r.can_delete))
        if ok)
    return (f'<li><span class="dq-doc-title">{esc(r.title or display_name(r.doc_id))}</span>'
            f'<span class="dq-doc-meta">{esc(display_name(r.doc_id))} · {r.sentences:,} sentences · '
            f'{r.chars:,} chars{when} · {whose}</span>'
            f'{f"<span class=dq-doc-actions>{actions}</span>" if actions else ""}</li>')


def documents_html(rows: Sequence[DocRow]) -> str:
    """What this browser can ask about: one row per document, with delete/re-index where allowed."""
    if not rows:
        return '<div class="dq-docs dq-docs-empty">Nothing is indexed yet.</div>'
    items = "".join(_doc_row(r) for r in sorted(rows, key=lambda r: display_name(r.doc_id).lower()))
    n = len(rows)
    return (f'<div class="dq-docs"><div class="dq-docs-title">{n} document{"s" * (n != 1)} indexed</div>'
            f'<ul>{items}</ul></div>')


@dataclass(frozen=True)
class FileProgress:
    """Where the indexing of one uploaded file stands."""

    name: str
    stage: str  # waiting reading names embedding done failed cancelled; note/error: message only
    done: int = 0
    total: int = 0
    message: str = ""


_STAGE_TEXT = {"waiting": "waiting", "reading": "reading the file",
               "names": "finding names in {total:,} sentences",
               "embedding": "embedding {done:,} / {total:,} texts", "writing": "writing to the index",
               "done": "", "failed": "not indexed", "cancelled": "cancelled — nothing was indexed"}


def progress_html(files: Sequence[FileProgress]) -> str:
    """One progress line per file; the bar moves with the texts embedded so far."""
    items = []
    for f in files:
        text = _STAGE_TEXT.get(f.stage, "").format(done=f.done, total=f.total)
        text = " — ".join(t for t in (text, f.message) if t)
        bar = (f'<progress max="{max(f.total, 1)}" value="{min(f.done, f.total)}"></progress>'
               if f.stage in ("embedding", "names", "writing") else "")
        items.append(f'<li class="dq-prog dq-prog-{esc(f.stage)}"><b>{esc(f.name)}</b> {bar}'
                     f'<span class="dq-prog-text">{esc(text)}</span></li>')
    return f'<ul class="dq-progress">{"".join(items)}</ul>' if items else ""


@dataclass(frozen=True)
class UploadLine:
    """The outcome for one uploaded file: ``ok`` False means nothing was indexed from it."""

    name: str
    ok: bool
    message: str


def upload_summary_html(lines: Iterable[UploadLine]) -> str:
    """One line per uploaded file: a tick or a cross, the name and what happened."""
    items = "".join(
        f'<li class="{"dq-up-ok" if ln.ok else "dq-up-err"}"><span class="dq-up-icon">'
        f'{"✓" if ln.ok else "✗"}</span><b>{esc(ln.name)}</b> — {esc(ln.message)}</li>'
        for ln in lines)
    return f'<ul class="dq-upload">{items}</ul>' if items else ""
