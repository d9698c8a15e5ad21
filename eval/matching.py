"""Lenient, deterministic string matching of gold key facts against answer text.

Why lexical and not a judge model: the harness must run offline, in CI, in seconds and give
the same score twice. Gold facts are therefore short strings with alternatives, matched
case-insensitively after normalising typographic quotes, dashes and whitespace, and only at
word boundaries (so "26" does not match "126", nor "no" match "not").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_TRANSLATE = str.maketrans({
    "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'", "`": "'",
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
})
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, NFKC, ASCII quotes and dashes, single spaces, stripped."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).lower()
    return _SPACES.sub(" ", text).strip()


def _pattern(alternative: str) -> re.Pattern[str]:
    alt = normalise(alternative)
    left = r"(?<!\w)" if alt[:1].isalnum() else ""
    right = r"(?!\w)" if alt[-1:].isalnum() else ""
    return re.compile(left + re.escape(alt) + right)


def contains(text: str, alternative: str) -> bool:
    """``alternative`` occurs in ``text`` after normalisation, on word boundaries."""
    return bool(alternative.strip()) and _pattern(alternative).search(normalise(text)) is not None


def fact_present(text: str, alternatives: Sequence[str]) -> bool:
    """At least one of a fact's acceptable alternatives occurs in ``text``."""
    return any(contains(text, alt) for alt in alternatives)


def facts_present(text: str, facts: Iterable[Sequence[str]]) -> list[bool]:
    """For each fact, whether ``text`` states it."""
    return [fact_present(text, alts) for alts in facts]
