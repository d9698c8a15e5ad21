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

from assistant import Answer, Citation, Document

REFUSAL_HEADING = "The documents don't say"
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


def position_label(c: Citation) -> str:
    """Where a sentence sits, for people: 1-based sentence number, raw character offsets."""
    return f"sentence {c.sentence_id + 1}, chars {c.start}–{c.end}"


def doc_label(doc_id: str, documents: Mapping[str, Document] | None = None) -> str:
    """A document's display name: its title when it has one, else its id."""
    doc = (documents or {}).get(doc_id)
    return (doc.title or doc_id) if doc else doc_id


def answer_text_html(text: str, n_citations: int) -> str:
    """Answer text with ``[n]`` markers turned into superscript references.

    Only markers that point at an existing citation become references, so a literal "[2019]"
    in a quoted sentence stays plain text.
    """
    def ref(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<sup class="ref">[{n}]</sup>' if 1 <= n <= n_citations else m.group(0)

    return MARKER.sub(ref, _lines(text))


def citation_card(n: int, c: Citation, documents: Mapping[str, Document] | None = None,
                  kind: str = "source") -> str:
    """One card: number, document, position and the exact quoted sentence."""
    tag = "related" if kind == "related" else "source"
    return (f'<div class="dq-card dq-{tag}" data-n="{n}">'
            f'<div class="dq-card-head"><span class="dq-num">{n}</span>'
            f'<span class="dq-doc">{esc(doc_label(c.doc_id, documents))}</span>'
            f'<span class="dq-pos">{esc(position_label(c))}</span>'
            f'<span class="dq-kind">{tag}</span></div>'
            f'<div class="dq-quote">{_lines(c.text)}</div></div>')


def citation_cards(citations: Sequence[Citation], documents: Mapping[str, Document] | None = None,
                   kind: str = "source") -> str:
    """The card list under an answer, with a heading that says what the cards are."""
    if not citations:
        return ""
    title = "Related sentences — on the topic, but they do not answer it" if kind == "related" \
        else "Sources"
    cards = "".join(citation_card(i, c, documents, kind) for i, c in enumerate(citations, 1))
    return f'<div class="dq-cards dq-cards-{kind}"><div class="dq-cards-title">{title}</div>{cards}</div>'


def _footer(answer: Answer) -> str:
    total = answer.timings.get("total_ms")
    took = "" if not total else f"{total:.0f} ms" if total < 1000 else f"{total / 1000:.1f} s"
    bits = [f"answered in {took}" if took else "", answer.backend]
    text = " · ".join(b for b in bits if b)
    return f'<div class="dq-foot">{esc(text)}</div>' if text else ""


def answer_html(answer: Answer, documents: Mapping[str, Document] | None = None,
                partial: str | None = None) -> str:
    """A whole assistant message: answer (or refusal), its cards and a small footer.

    ``partial`` is a prefix of ``answer.text`` while the answer is still being shown; cards
    appear only with the complete text so they never point at markers not yet on screen.
    """
    if answer.error:  # "invalid" is the question's fault; anything else is the backend's
        head = INVALID_HEADING if answer.kind == "invalid" else BACKEND_HEADING.format(backend=answer.backend)
        return (f'<div class="dq-answer dq-invalid dq-done"><div class="dq-head">{esc(head)}</div>'
                f'<div class="dq-text">{_lines(answer.error)}</div>{_footer(answer)}</div>')
    shown = answer.text if partial is None else partial
    done = partial is None
    if answer.refused:
        body = (f'<div class="dq-head">{REFUSAL_HEADING}</div>'
                f'<div class="dq-text">{_lines(shown)}</div>')
        extra = citation_cards(answer.related, documents, "related") if done else ""
        return (f'<div class="dq-answer dq-refused{" dq-done" * done}">'
                f'{body}{extra}{_footer(answer) if done else ""}</div>')
    body = f'<div class="dq-text">{answer_text_html(shown, len(answer.citations))}</div>'
    extra = citation_cards(answer.citations, documents, "source") if done else ""
    return (f'<div class="dq-answer dq-ok{" dq-done" * done}">'
            f'{body}{extra}{_footer(answer) if done else ""}</div>')


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


def highlight(text: str, spans: Sequence[Span], active: int | None = None) -> str:
    """``text`` escaped, with each span wrapped in ``<mark id="dq-mark-n">`` at its exact offsets.

    Spans are sentences, so they only coincide (never partly overlap); a span that overlaps an
    earlier one is dropped rather than producing broken nesting. The ``active`` span gets an
    extra class so the panel can show which citation was chosen.
    """
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
            out.append(esc(text[pos:s.start]))
            cls = f"dq-mark dq-mark-{s.kind}" + (" dq-active" if s.n == active else "")
            label = f"related {s.n}" if s.kind == "related" else str(s.n)
            out.append(f'<mark id="dq-mark-{s.n}" class="{cls}" data-n="{s.n}">'
                       f'<span class="dq-mark-n">{esc(label)}</span>{esc(text[s.start:s.end])}</mark>')
            pos = s.end
        out.append(esc(text[pos:b]))
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
            f'<span class="dq-source-title">{esc(document.title or document.doc_id)}</span>'
            f'<span class="dq-source-meta">{esc(document.doc_id)} · {esc(status)}</span></div>'
            f'<div class="dq-source-body" id="dq-source-body">'
            f'{highlight(document.text, spans, active)}</div></div>')


def citation_choices(answer: Answer | None, documents: Mapping[str, Document] | None = None
                     ) -> list[tuple[str, str]]:
    """(label, value) pairs for the "show in source" selector; value is the 1-based number."""
    if answer is None or answer.error:
        return []
    cites = answer.related if answer.refused else answer.citations
    word = "related " if answer.refused else ""
    return [(f"{word}[{i}] {doc_label(c.doc_id, documents)} · sentence {c.sentence_id + 1}", str(i))
            for i, c in enumerate(cites, 1)]


# -- documents and uploads -----------------------------------------------------------------------

def documents_html(documents: Mapping[str, Document], sentence_counts: Mapping[str, int]) -> str:
    """What is indexed: one row per document with its size, so people know what they can ask."""
    if not documents:
        return '<div class="dq-docs dq-docs-empty">Nothing is indexed yet.</div>'
    rows = "".join(
        f'<li><span class="dq-doc-title">{esc(d.title or d.doc_id)}</span>'
        f'<span class="dq-doc-meta">{esc(d.doc_id)} · {sentence_counts.get(d.doc_id, 0):,} sentences · '
        f'{len(d.text):,} chars</span></li>'
        for d in sorted(documents.values(), key=lambda d: d.doc_id.lower()))
    n = len(documents)
    return (f'<div class="dq-docs"><div class="dq-docs-title">{n} document{"s" * (n != 1)} indexed</div>'
            f'<ul>{rows}</ul></div>')


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
