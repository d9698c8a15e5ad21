"""Features of the third decision: which name, place, date or figure of the chosen sentence is
the direct answer.

Inputs: the parsed question (``language.question.Question``), the sentence, and its options
(``SpanOption``: the entities of the asked kind, or the figures a how-many/how-much question can
be answered with). Output: one row of floats per option, in ``SPAN_FEATURES`` order; the
decision model's span model (a conditional logit, like the candidate model) turns the rows into
P(this option is the answer). Why learned: where the answer stands relative to the question's
words ("moves *to* London", "trained 80,000 *through the mission*") is what SQuAD's hundred
thousand answers show, and one hand-set ordering (people before places before dates, then the
nearest) chose the wrong one of two figures or two cities in the same sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.extract import clause_bounds
from assistant.core.types import Entity, Sentence
from assistant.language.figures import Figure
from assistant.language.question import Question
from assistant.language.text import fold, stem, word_spans, words

SPAN_FEATURES: tuple[str, ...] = (
    "near_words",  # log(1 + words between the option and the nearest question term)
    "window3",  # question terms within three words either side of the option
    "window8",  # ... within eight words
    "clause",  # question terms in the option's clause (between commas, dashes, "while" ...)
    "left_share",  # share of the question terms found in the sentence that stand before it
    "prev_in_question",  # the word just before the option is a word of the question ("to", "in" ...)
    "next_in_question",  # the word just after it is
    "rel_pos",  # where it starts, over the sentence's length
    "first",  # the first option of the sentence
    "last",  # the last
    "n_words",  # log(1 + its words)
    "echo",  # share of its words the question says
    "paren",  # inside parentheses
    "person",
    "place",  # GPE, LOC, FAC
    "org",
    "group",  # NORP: nationalities, religious and political groups
    "date",  # DATE, TIME, or a year
    "money",  # a figure with a scale word or a unit ("120 million euros")
    "unit_head",  # a figure followed by what the question counts ("how many nurses": "3,000 nurses")
)

_PLACES = frozenset({"GPE", "LOC", "FAC"})
_DATES = frozenset({"DATE", "TIME"})


@dataclass(frozen=True)
class SpanOption:
    """One possible direct answer in a sentence: its text, offsets in the sentence, entity label
    (``FIGURE`` for a figure) and, for a figure, whether it is money and counts the asked noun."""

    text: str
    start: int
    end: int
    label: str
    money: bool = False
    unit_head: bool = False
    year: bool = False

    @classmethod
    def of_entity(cls, e: Entity) -> SpanOption:
        return cls(e.text, e.start, e.end, e.label)

    @classmethod
    def of_figure(cls, f: Figure, head_noun: str, sentence: str) -> SpanOption:
        """``f`` of ``sentence``; ``head_noun``: what the question counts ("" if nothing)."""
        head = fold(head_noun)[:5] if head_noun else ""
        after = [w for a, _, w in word_spans(sentence[f.end :])[:1]]
        counts = fold(f.unit) if f.unit else after[0] if after else ""
        return cls(
            f.text,
            f.start,
            f.end,
            "FIGURE",
            money=bool(f.scale_word or f.unit),
            unit_head=bool(head and counts.startswith(head)),
            year=f.is_year,
        )


def span_features(info: Question, sentence: Sentence, options: Sequence[SpanOption]) -> list[list[float]]:
    """One row per option of ``sentence`` (in ``SPAN_FEATURES`` order) for the question ``info``."""
    text = sentence.text
    toks = word_spans(text)
    terms = set(info.terms)
    q_words = set(words(info.text))
    hits = [i for i, (_, _, w) in enumerate(toks) if w in terms or stem(w) in terms]
    rows = []
    for n, o in enumerate(options):
        inside = [i for i, (a, b, _) in enumerate(toks) if a < o.end and b > o.start]
        lo, hi = (inside[0], inside[-1]) if inside else (0, 0)
        outside = [i for i in hits if i < lo or i > hi]
        dist = min((lo - i if i < lo else i - hi for i in outside), default=50)
        start_clause, end_clause = clause_bounds(text, o.start, o.end)
        span_words = words(o.text)
        rows.append(
            [
                math.log1p(dist),
                float(len({toks[i][2] for i in outside if abs(i - lo) <= 3 or abs(i - hi) <= 3})),
                float(len({toks[i][2] for i in outside if abs(i - lo) <= 8 or abs(i - hi) <= 8})),
                float(len({toks[i][2] for i in outside if start_clause <= toks[i][0] < end_clause})),
                sum(i < lo for i in outside) / len(outside) if outside else 0.5,
                float(lo > 0 and toks[lo - 1][2] in q_words),
                float(hi + 1 < len(toks) and toks[hi + 1][2] in q_words),
                o.start / max(1, len(text)),
                float(n == 0),
                float(n == len(options) - 1),
                math.log1p(len(span_words)),
                sum(w in q_words for w in span_words) / len(span_words) if span_words else 0.0,
                float(text.count("(", 0, o.start) > text.count(")", 0, o.start)),
                float(o.label == "PERSON"),
                float(o.label in _PLACES),
                float(o.label == "ORG"),
                float(o.label == "NORP"),
                float(o.label in _DATES or o.year),
                float(o.money),
                float(o.unit_head),
            ]
        )
    return rows
