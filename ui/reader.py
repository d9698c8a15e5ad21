"""Show a Markdown document as a reader sees it, without moving a single offset.

Citations point at exact character offsets of the stored text, markup included. Rather than
rewriting the text (which would shift every offset), we compute which characters are markup
("**", "# ", a list's "- ", a link's "](url)") and replace those on display only: a bullet
becomes "•", the rest disappears. Any stretch ``[a, b)`` of the original text can then be shown
on its own, so highlights keep wrapping exactly ``text[start:end]``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

MARKDOWN_SUFFIXES = (".md", ".markdown")
_LINE_MARK = re.compile(r"^[ \t]*(?P<mark>#{1,6}[ \t]+|[-*+][ \t]+|\d{1,3}[.)][ \t]+(?=\S)|>[ \t]?)", re.M)
_INLINE = re.compile(r"\*\*|__|`+|~~")
# A link or image: [label](url "title"). The URL may hold balanced parentheses (CommonMark), as in
# "javascript:alert(1)" or a Wikipedia address, or be written <in angle brackets>; stopping at
# its first ")" left the rest of it, and a stray ")", in the text (issue 23).
_LINK = re.compile(
    r"!?\[(?P<label>[^\]\n]{1,300})\]\("
    r"(?P<url><[^<>\n]{0,2000}>|(?:[^()\s]|\([^()\s]{0,500}\)){0,2000})"
    r"(?:[ \t]+(?:\"[^\"\n]{0,300}\"|'[^'\n]{0,300}'|\([^()\n]{0,300}\)))?\)"
)


def is_markdown(doc_id: str) -> bool:
    """Whether a document's text is Markdown (by its file name, as ingest read it)."""
    return doc_id.lower().endswith(MARKDOWN_SUFFIXES)


@lru_cache(maxsize=16)
def _edits(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """(positions, replacements) of the markup characters of ``text``, sorted by position."""
    edits: dict[int, str] = {}
    for m in _LINE_MARK.finditer(text):
        a, b = m.span("mark")
        if text[a].isdigit():
            continue  # "1. " reads fine as it is
        for i in range(a, b):
            edits[i] = ""
        if text[a] in "-*+":
            edits[a] = "• "
    for m in _INLINE.finditer(text):
        for i in range(m.start(), m.end()):
            edits[i] = ""
    for m in _LINK.finditer(text):
        for i in range(m.start(), m.start("label")):
            edits[i] = ""
        for i in range(m.end("label"), m.end()):
            edits[i] = ""
    keys = tuple(sorted(edits))
    return keys, tuple(edits[k] for k in keys)


def view(text: str, start: int, end: int, markdown: bool) -> str:
    """``text[start:end]`` as a reader sees it (markup hidden when ``markdown``)."""
    if not markdown:
        return text[start:end]
    keys, values = _edits(text)
    lo, hi = bisect_left(keys, start), bisect_left(keys, end)
    if lo == hi:
        return text[start:end]
    out: list[str] = []
    pos = start
    for k, v in zip(keys[lo:hi], values[lo:hi], strict=True):
        out.append(text[pos:k])
        out.append(v)
        pos = k + 1
    out.append(text[pos:end])
    return "".join(out)
