"""Figures in text: find them with their modifiers and scale, and parse them to values.

"at least 26", "167,000 million euros", "about 115,000 million", "(80,000)", "twenty nations"
are all mentions with a value, a scale word and (when stated) a unit.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from assistant.core.types import Sentence
from assistant.language.patterns import CURRENCY, CURRENCY_NAMES, MONEY_TERMS
from assistant.language.text import NUMBER_WORDS, SCALE_WORDS, stem

_MODIFIERS = (
    r"(?:(?:up to|at least|at most|more than|less than|fewer than|over|about|around|nearly|"
    r"almost|some|roughly|approximately|only|just|exactly|a total of|as many as|close to)\s+)?"
)
_NUMWORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_UNITS = (
    r"(?:\s*%|\s+(?:" + CURRENCY_NAMES + r"|percent|per cent|"
    r"people|men|women|soldiers|troops|countries|nations|km|kilometres|kilometers|tons|tonnes|"
    r"metres|meters|metre|meter|centimetres|centimeters|millimetres|millimeters|feet|foot|miles|mile|"
    r"hectares|acres|kilograms|kg|grams|litres|liters|knots|mph|degrees))?"
)
# A currency sign before the number ("$414 million", "€2.5bn") is the figure's unit.
_SIGN = r"(?P<sign>[$€£¥]\s?)?"
# "three-quarters", "two-thirds": a fraction, not a count of three or two
_NOT_FRACTION = r"(?!-(?:quarter|third|half|halve|fifth|sixth|eighth|tenth)s?\b)"
MENTION = re.compile(
    # not inside a number, after a sign, or in a designation ("STS-133", "F-16", "COVID-19")
    r"(?<![\w.$€£¥])(?-i:(?<![A-Z]-))"
    + _MODIFIERS
    + _SIGN
    + r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|(?:"
    + _NUMWORD
    + r")(?:[- ](?:"
    + _NUMWORD
    + r"))?|a (?:million|billion|thousand|hundred|dozen))"
    + _NOT_FRACTION
    # "bn" may be written on; "m" too after a currency sign ("£30m"; "30m" alone may be metres)
    + r"(?P<scale>\s+(?:thousand|million|billion|trillion|bn|millions|billions)|bn|(?(sign)m|(?!)))?"
    + _UNITS
    + r"(?!\w)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")
PERCENT = frozenset({"%", "percent", "per cent"})  # the units of a figure that is a share


# "How deep / high / heavy ...?": the units that measure it, and the words that say a figure
# measures that ("18 metres deep", "a depth of", "weighs"); "how far" needs no such word.
_LENGTH = r"^(km|kilomet|met|centimet|millimet|feet|foot|mile)"
MEASURES: dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]] = {
    adjective: (re.compile(units, re.IGNORECASE), re.compile(cue, re.IGNORECASE) if cue else None)
    for adjective, units, cue in [
        ("deep", _LENGTH, r"\b(deep|depth)"),
        ("high", _LENGTH, r"\b(high|height|tall)"),
        ("tall", _LENGTH, r"\b(tall|high|height)"),
        ("wide", _LENGTH, r"\b(wide|width|across)"),
        ("far", _LENGTH, ""),
        ("heavy", r"^(ton|kilogram|kg|gram)", r"\b(heavy|weigh)"),
        ("fast", r"^(knot|mph|km/h)", ""),
    ]
}


def measures(f: Figure, s: Sentence, adjective: str) -> bool:
    """Does ``f`` in ``s`` answer "how <adjective>?" (a unit of that kind, and the sentence says
    what it measures)?"""
    units, cue = MEASURES[adjective]
    return bool(f.unit) and bool(units.match(f.unit)) and (cue is None or bool(cue.search(s.text)))


@dataclass(frozen=True)
class Figure:
    """A number mention: surface text, offsets in its sentence, value and unit."""

    text: str
    start: int
    end: int
    value: float
    scale_word: str
    unit: str
    is_year: bool = False


def _word_value(raw: str) -> float | None:
    raw = raw.lower().replace("-", " ")
    if raw.startswith("a "):
        return {
            "a million": 1e6,
            "a billion": 1e9,
            "a thousand": 1e3,
            "a hundred": 100.0,
            "a dozen": 12.0,
        }.get(raw)
    total = 0.0
    for part in raw.split():
        if part not in NUMBER_WORDS:
            return None
        total = (
            total * NUMBER_WORDS[part] if NUMBER_WORDS[part] == 100 and total else total + NUMBER_WORDS[part]
        )
    return total


def find_figures(text: str) -> list[Figure]:
    """All number mentions in ``text`` (years flagged so counts are not confused with dates)."""
    out: list[Figure] = []
    for m in MENTION.finditer(text):
        num = m.group("num")
        if re.fullmatch(r"[\d,.]+", num):
            value = float(num.replace(",", ""))
        else:
            v = _word_value(num)
            if v is None:
                continue
            value = v
        scale_word = (m.group("scale") or "").strip().lower()
        if scale_word:
            value *= SCALE_WORDS.get(scale_word, 1.0)
        tail = text[m.end("scale") if m.group("scale") else m.end("num") : m.end()].strip().lower()
        tail = tail or (m.group("sign") or "").strip()
        surface = m.group(0).strip()
        if num.lower() in {"one"} and not scale_word:
            continue  # "one" is mostly a pronoun ("the Italian one", "no one")
        out.append(
            Figure(
                text=surface,
                start=m.start() + (len(m.group(0)) - len(m.group(0).lstrip())),
                end=m.end(),
                value=value,
                scale_word=scale_word,
                unit=tail,
                is_year=bool(_YEAR.match(num)) and not scale_word,
            )
        )
    return out


def is_money(f: Figure, s: Sentence) -> bool:
    """Is ``f`` (a figure of ``s``) a sum of money? A currency is its unit, or it is scaled
    ("about 115,000 million") in a sentence that names a currency."""
    if f.unit and CURRENCY.search(f.unit):
        return True
    return bool(f.scale_word) and bool(CURRENCY.search(s.text))


_MONEY_STEMS = frozenset(stem(t) for t in MONEY_TERMS)


def asks_for_money(terms: Collection[str]) -> bool:
    """Do a question's content terms (stemmed) ask about money ("cost", "pay", "funding":
    ``MONEY_TERMS``)? A figure answering it should be money (``is_money``)."""
    return not _MONEY_STEMS.isdisjoint(terms)


def quantities(s: Sentence) -> list[Figure]:
    """The figures of a sentence that state a quantity: not years, not inside a date or time
    ("June 30", "the next few days") as the ingest-time entities mark them."""
    return [
        f
        for f in find_figures(s.text)
        if not f.is_year
        and not any(e.label in ("DATE", "TIME") and e.start <= f.start and f.end <= e.end for e in s.entities)
    ]


def format_value(value: float, like: list[Figure]) -> str:
    """Write ``value`` in the scale the source figures use ("52,000 million euros")."""
    scale_words = {f.scale_word for f in like if f.scale_word}
    units = [f.unit for f in like if f.unit]
    unit = f" {units[0]}" if units else ""
    if len(scale_words) == 1:
        word = scale_words.pop()
        scaled = value / SCALE_WORDS.get(word, 1.0)
        num = f"{scaled:,.0f}" if abs(scaled - round(scaled)) < 1e-6 else f"{scaled:,.2f}"
        return f"{num} {word}{unit}"
    num = f"{value:,.0f}" if abs(value - round(value)) < 1e-6 else f"{value:,.2f}"
    return f"{num}{unit}"
