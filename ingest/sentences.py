"""Sentence splitting with exact character offsets.

Why our own splitter: news text (and machine-translated news in particular) has headings
with no final period, quotations that end in ``,”`` / ``.”`` followed by their attribution
(``“...,” Macron announced.``), fragments that begin with punctuation, abbreviations and
numbers such as ``167,000`` or ``1.5``. Maintained offline segmenters either need data
downloads (NLTK punkt) or split attributions off their quotes (pysbd, spaCy's
sentencizer); the offsets are the product, so the rules live here and are tested.

List items (``- x``, ``• x``, ``* x``, ``1. x``, ``1) x``, one per line) are sentences of their
own, whatever the bullet glyph: a list of six points cited as one 500-character "sentence"
proves nothing. The marker is not part of the sentence (a citation quotes the item's words).

Every returned ``Sentence`` satisfies ``text[s.start:s.end] == s.text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.core.types import Sentence
from assistant.language.text import SPEECH_VERBS

CLOSERS = "\"'”’»)]"
OPENERS = "\"'“‘«(["
TERMINALS = ".!?…"

# Abbreviations after which a period does not end a sentence (lower-cased, without the dot).
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres rev
    hon vs etc e.g i.e cf al approx dept est fig inc ltd co corp no nos vol pp jan feb
    mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u u.s.a a.m p.m ca min max""".split()
)

_WORD = re.compile(r"[\w’'-]+", re.UNICODE)


def _token_before(text: str, i: int) -> str:
    """The whitespace-delimited token that ends at index ``i`` (exclusive)."""
    j = i
    while j > 0 and not text[j - 1].isspace():
        j -= 1
    return text[j:i]


def _is_abbreviation(token: str) -> bool:
    """``token`` ends with the period being judged (e.g. ``U.S.`` or ``(Mr.``)."""
    core = token.strip(OPENERS + CLOSERS).rstrip(".").lower()
    if not core:
        return False
    if core in ABBREVIATIONS:
        return True
    # Initials such as "J." or "J.R." (single letters separated by periods).
    return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", core))


def _next_clause(text: str, i: int) -> str:
    """The text from ``i`` up to the next sentence terminal or line break."""
    m = re.compile(r"[.!?…\n]").search(text, i)
    return text[i : m.start() if m else len(text)]


def _is_attribution(clause: str) -> bool:
    """A short clause of saying, e.g. ``Macron announced`` or ``said the French president``."""
    words = [w.lower() for w in _WORD.findall(clause)]
    return 0 < len(words) <= 7 and any(w in SPEECH_VERBS for w in words)


def _line_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each line, without the newline."""
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line)
        pos += len(line) + 1


# A list item's marker at the start of a line: a dash, star or plus followed by a space, a
# bullet glyph (with or without a space after it), or a number like ``1.``, ``1)`` or ``(1)``.
# Up to three digits, so a year such as ``2020.`` that a hard wrap put first is not a marker.
BULLET_GLYPHS = "•◦‣⁃∙·●○▪▫■□◆◇►▸▹➢➤✓✔"
_MARKER = re.compile(rf"(?:[-*+–—](?=\s|$)|[{BULLET_GLYPHS}]|\(?\d{{1,3}}[.)](?=\s|$))\s*")


def _item_text_start(text: str, ls: int, le: int) -> int | None:
    """Where the text of a list item begins, when the line ``text[ls:le]`` (no surrounding
    whitespace) is one; ``le`` for a marker alone on its line; None for any other line.

    A line whose rest has no letter or digit (``* * *``, ``- -``) is not an item.
    """
    m = _MARKER.match(text, ls, le)
    if m is None:
        return None
    at = m.end()
    if at < le and not any(ch.isalnum() for ch in text[at:le]):
        return None
    return at


def _is_item_line(text: str, span: tuple[int, int] | None) -> bool:
    """Does the line ``span`` (``None`` past the end) start a list item?"""
    if span is None:
        return False
    raw = text[span[0] : span[1]]
    ls = span[0] + len(raw) - len(raw.lstrip())
    le = span[0] + len(raw.rstrip())
    return ls < le and _item_text_start(text, ls, le) is not None


def _continues_item(text: str, span: tuple[int, int] | None) -> bool:
    """An indented, non-blank line that is no item of its own: the wrapped rest of an item."""
    if span is None:
        return False
    raw = text[span[0] : span[1]]
    return bool(raw.strip()) and raw[0].isspace() and not _is_item_line(text, span)


def _blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """Split ``text`` into blocks (paragraphs, headings, list items): ``(start, end, is_heading)``.

    A line break ends a block when a blank line follows, when the line ends with a sentence
    terminal (one paragraph per line, as in most plain-text news), when the line is a short
    heading with no final punctuation, or when a list item follows. Otherwise it is a hard
    wrap inside a paragraph.

    Each list item (``- x``, ``• x``, ``* x``, ``1. x``, ``1) x``, one per line) is a block of
    its own that starts after its marker, so the cited text is the item without its bullet or
    number; indented lines under an item are its wrapped rest. A marker alone on its line
    (as some web pages turn into text) makes the next line an item.
    """
    lines = list(_line_spans(text))
    block_start: int | None = None
    block_end = 0
    in_item = False  # the open block is a list item (so the line after it may continue it)
    marker_alone = False  # the last non-blank line was a bare bullet: this line is an item
    for idx, (s, e) in enumerate(lines):
        raw = text[s:e]
        stripped = raw.strip()
        if not stripped:
            if block_start is not None:
                yield block_start, block_end, False
                block_start = None
            continue
        ls = s + (len(raw) - len(raw.lstrip()))
        le = s + len(raw.rstrip())
        nxt = lines[idx + 1] if idx + 1 < len(lines) else None
        if in_item:
            block_end = le  # the indented rest of the open item
        else:
            item_at = _item_text_start(text, ls, le)
            if item_at == le:  # "•" alone: its text is on the next line
                marker_alone = True
                continue
            if item_at is None and marker_alone:
                item_at = ls
            marker_alone = False
            if item_at is None:
                next_text = text[nxt[0] : nxt[1]].strip() if nxt else ""
                if block_start is None and _looks_like_heading(stripped, next_text):
                    yield ls, le, True
                    continue
                if block_start is None:
                    block_start = ls
                block_end = le
                if stripped[-1] in TERMINALS + CLOSERS or not next_text or _is_item_line(text, nxt):
                    yield block_start, block_end, False
                    block_start = None
                continue
            if block_start is not None:  # a paragraph the item interrupts
                yield block_start, block_end, False
            block_start, block_end, in_item = item_at, le, True
        if block_start is not None and not _continues_item(text, nxt):  # (an item is open here)
            yield block_start, block_end, False
            block_start, in_item = None, False
    if block_start is not None:
        yield block_start, block_end, False


def _looks_like_heading(line: str, next_line: str) -> bool:
    """A short line that starts a block, has no final punctuation and is followed by text.

    The first line of a hard-wrapped paragraph is long, so it is not mistaken for one.
    """
    words = line.split()
    if not words or len(words) > 12 or line[-1] in TERMINALS + ",;:" + CLOSERS:
        return False
    if not (line[0].isupper() or line[0].isdigit() or line[0] == "#"):
        return False
    return bool(next_line) or len(words) <= 8


def _split_block(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Split one paragraph block into sentence spans."""
    i = start
    sent_start = start
    while i < end:
        ch = text[i]
        if ch not in TERMINALS:
            i += 1
            continue
        j = i + 1
        while j < end and text[j] in TERMINALS:
            j += 1
        closed = j
        while closed < end and text[closed] in CLOSERS:
            closed += 1
        if closed >= end:
            break
        if not text[closed].isspace():
            i = closed  # "1.5", "U.S.A", "e.g.," — not a boundary
            continue
        k = closed
        while k < end and text[k].isspace():
            k += 1
        if k >= end:
            break
        nxt = text[k]
        boundary = nxt.isupper() or nxt.isdigit() or nxt in OPENERS or nxt in ",;:–—-"
        if ch == "." and j == i + 1 and _is_abbreviation(_token_before(text, i + 1)):
            boundary = False
        if boundary and closed > j and _is_attribution(_next_clause(text, k)):
            boundary = False  # “...,” Macron announced.  /  “... .” said the minister.
        if boundary:
            yield sent_start, closed
            sent_start = k
        i = k
    if sent_start < end:
        yield sent_start, end


def split_sentences(text: str, doc_id: str = "doc") -> list[Sentence]:
    """Split ``text`` into ``Sentence`` objects with exact offsets, headings as own units."""
    sentences: list[Sentence] = []
    for paragraph, (bs, be, heading) in enumerate(_blocks(text)):
        spans = [(bs, be)] if heading else list(_split_block(text, bs, be))
        for s, e in spans:
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s >= e:
                continue
            sentences.append(
                Sentence(
                    doc_id=doc_id,
                    sentence_id=len(sentences),
                    text=text[s:e],
                    start=s,
                    end=e,
                    paragraph=paragraph,
                    is_heading=heading,
                )
            )
    return sentences
