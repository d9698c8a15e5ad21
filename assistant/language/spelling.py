"""A name spelt one letter off from the documents' spelling is the documents' name.

"Otieno" in a question, "Ottieno" in a transliterated article; "Karlsson" / "Karlson".
Without this the name check refuses ("not mentioned") or, worse, the premise check answers
"No, they do not say this about Otieno" while the cited sentence is about him.

Only for names the documents do not hold at all, of six letters or more, one edit away
(a letter changed, added or dropped), and only when exactly one document name is that
close: short names ("Iran" / "Iraq") and ambiguous ones are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

from assistant.language.question import Question

MIN_LETTERS = 6


def one_edit_apart(a: str, b: str) -> bool:
    """Levenshtein distance exactly 1 (no transpositions)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def documents_spelling(key: str, names: Collection[str], known: Collection[str] = ()) -> str:
    """The one document name one edit from ``key`` ('' when none, several, or when ``key``
    is itself a document name or word: ``known``)."""
    if key in names or key in known or len(key) < MIN_LETTERS or not key.isalpha():
        return ""
    close = [c for c in names if c[:1] == key[:1] and abs(len(c) - len(key)) <= 1 and one_edit_apart(key, c)]
    return close[0] if len(close) == 1 else ""


def respell_names(
    info: Question, known: Collection[str], names: Callable[[], Collection[str]]
) -> Question:
    """``info`` with each unknown name key (and the same term) in the documents' spelling.

    ``known`` holds every word and name of the documents; ``names()`` their entity name keys,
    asked for only when a long name is unknown (on a large corpus it is a big table)."""
    unknown = [k for ks in info.entity_keys for k in ks if k not in known and len(k) >= MIN_LETTERS]
    if not unknown:
        return info
    table = names()
    mapping = {k: v for k in unknown if (v := documents_spelling(k, table, known))}
    if not mapping:
        return info
    return replace(
        info,
        entity_keys=tuple(tuple(mapping.get(k, k) for k in ks) for ks in info.entity_keys),
        terms=tuple(mapping.get(t, t) for t in info.terms),
    )
