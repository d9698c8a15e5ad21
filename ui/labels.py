"""How the chat names a cited sentence: its document, its position, its words as read.

Shared by the HTML of the chat (``ui.render``) and the text people copy or print
(``ui.export``), so a source reads the same everywhere; its own module so that neither of
those two imports the other for it. Plain strings, not escaped: each caller escapes for
where the string goes.
"""

from __future__ import annotations

from collections.abc import Mapping

from assistant import Citation, Document
from ui import reader
from ui.ids import display_name, owner_of


def position_label(c: Citation) -> str:
    """Where a sentence sits, for people: 1-based sentence number, raw character offsets."""
    return f"sentence {c.sentence_id + 1}, chars {c.start}–{c.end}"


def doc_label(doc_id: str, documents: Mapping[str, Document] | None = None) -> str:
    """A document's display name: its title when it has one, else its id (never a session token).

    A browser's upload says so: it may share its name with a shared document.
    """
    doc = (documents or {}).get(doc_id)
    name = (doc.title or display_name(doc_id)) if doc else display_name(doc_id)
    return f"{name} (your upload)" if owner_of(doc_id) else name


def doc_choices(documents: Mapping[str, Document]) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the document selectors, sorted by the name people see."""
    return sorted(((doc_label(d, documents), d) for d in documents), key=lambda p: (p[0].lower(), p[1]))


def quote_text(c: Citation, documents: Mapping[str, Document] | None = None) -> str:
    """A cited sentence as a reader sees it (Markdown markup hidden; offsets untouched)."""
    doc = (documents or {}).get(c.doc_id)
    if doc is None or not reader.is_markdown(c.doc_id) or doc.text[c.start:c.end] != c.text:
        return c.text
    return reader.view(doc.text, c.start, c.end, markdown=True)
