"""Answers and conversations as text people can paste or keep: Markdown, and a printable page.

The chat shows HTML (cards, headings), but what someone copies into an e-mail or a report must
be the answer itself with its sources, never markup. Each source is the exact cited sentence
with its document and position, so a pasted answer can still be checked.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from assistant import Answer, Citation, Document
from ui.labels import doc_label, position_label, quote_text

REFUSAL_LINE = "The documents don't say."


def _source_line(n: int, c: Citation, documents: Mapping[str, Document] | None) -> str:
    where = f"{doc_label(c.doc_id, documents)}, {position_label(c)}"
    quote = " ".join(quote_text(c, documents).split())
    return f"[{n}] {where}: “{quote}”"


def answer_markdown(answer: Answer, documents: Mapping[str, Document] | None = None) -> str:
    """One answer as Markdown: its text with [n] markers, then a numbered list of sources."""
    if answer.error:
        return answer.error
    lines = [answer.text.strip()]
    if answer.refused:
        lines = [REFUSAL_LINE, "", answer.text.strip()]
        if answer.related:
            lines += ["", "Related sentences (on the topic, but they do not answer it):"]
            lines += [_source_line(i, c, documents) for i, c in enumerate(answer.related, 1)]
        return "\n".join(lines)
    if answer.citations:
        lines += ["", "Sources:"]
        lines += [_source_line(i, c, documents) for i, c in enumerate(answer.citations, 1)]
    return "\n".join(lines)


def conversation_markdown(answers: Sequence[Answer], documents: Mapping[str, Document] | None = None,
                          title: str = "DocQA conversation") -> str:
    """Every question and answer of a conversation, with each answer's cited sentences."""
    parts = [f"# {title}", ""]
    for i, a in enumerate(answers, 1):
        parts += [f"## {i}. {a.question or '(question)'}", "", answer_markdown(a, documents), ""]
    if not answers:
        parts.append("_No questions were asked yet._")
    return "\n".join(parts).rstrip() + "\n"


PRINT_CSS = """
body { font: 15px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; color: #111; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
.answer { white-space: pre-wrap; } .refused { color: #92400e; }
ol.sources { font-size: 0.9rem; color: #333; } ol.sources li { margin: 0.3rem 0; }
.where { color: #555; } @media print { body { margin: 0; } }
"""


def conversation_html(answers: Sequence[Answer], documents: Mapping[str, Document] | None = None,
                      title: str = "DocQA conversation") -> str:
    """A self-contained printable page of the conversation (no scripts, no outside requests)."""
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>"]
    for i, a in enumerate(answers, 1):
        body.append(f"<h2>{i}. {esc(a.question or '(question)')}</h2>")
        cls = "answer refused" if a.refused else "answer"
        head = f"<b>{REFUSAL_LINE}</b>\n" if a.refused and not a.error else ""
        body.append(f'<div class="{cls}">{head}{esc(a.error or a.text.strip())}</div>')
        cites = a.related if a.refused else a.citations
        if cites and not a.error:
            label = "Related sentences (not sources)" if a.refused else "Sources"
            items = "".join(
                f'<li><span class="where">{esc(doc_label(c.doc_id, documents))}, '
                f'{esc(position_label(c))}:</span> “{esc(quote_text(c, documents))}”</li>'
                for c in cites)
            body.append(f'<p>{label}:</p><ol class="sources">{items}</ol>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{PRINT_CSS}</style></head><body>{''.join(body)}</body></html>\n")
