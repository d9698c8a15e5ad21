"""Citations: built from sentences, checked against the document text, renumbered.

The rule every backend obeys: a citation's text is ``document.text[start:end]``, exactly.
``verify`` drops any citation that breaks it (an LLM may invent or alter a quote).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistant.core.types import Citation, Document, Sentence

_MARKER = re.compile(r"\[(\d+)\]")


def citation_for(sentence: Sentence, score: float = 0.0) -> Citation:
    return Citation(
        text=sentence.text,
        doc_id=sentence.doc_id,
        sentence_id=sentence.sentence_id,
        start=sentence.start,
        end=sentence.end,
        score=round(float(score), 4),
    )


def is_exact(citation: Citation, documents: Mapping[str, Document]) -> bool:
    """True when the citation's text is exactly its document's ``text[start:end]``."""
    doc = documents.get(citation.doc_id)
    return (
        doc is not None
        and 0 <= citation.start < citation.end <= len(doc.text)
        and doc.text[citation.start : citation.end] == citation.text
    )


def verify(citations: list[Citation], documents: Mapping[str, Document]) -> list[Citation]:
    """Keep only exact citations (in order)."""
    return [c for c in citations if is_exact(c, documents)]


def markers(text: str) -> list[int]:
    """The ``[n]`` marker numbers used in ``text``, in order of first use."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def renumber(text: str, citations: list[Citation]) -> tuple[str, list[Citation]]:
    """Keep the citations the text uses, numbered 1..n in order of first use.

    Markers that point to no citation are removed, so ``[n]`` always resolves.
    """
    used = [n for n in markers(text) if 1 <= n <= len(citations)]
    mapping = {old: new for new, old in enumerate(used, start=1)}

    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[{mapping[n]}]" if n in mapping else ""

    new_text = _MARKER.sub(sub, text)
    new_text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", new_text)
    new_text = re.sub(r"[ \t]+([.,;:])", r"\1", new_text).strip()
    return new_text, [citations[old - 1] for old in used]
