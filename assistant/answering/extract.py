"""Short direct answers pulled from a cited sentence: a name, a place, a figure, a date, a list."""

from __future__ import annotations

import re

from assistant.answering.support import named, wanted
from assistant.core.types import Entity, Sentence
from assistant.language.figures import Figure, measures, quantities
from assistant.language.patterns import FIGURE_OWN_WORDS, ROLE_TITLE_WORDS
from assistant.language.question import Question, entity_keys
from assistant.language.text import SCALE_WORDS, content_terms, fold


def _q_keys(info: Question) -> set[str]:
    return {k for ks in info.entity_keys for k in ks}


def _near_terms(s: Sentence, pos: int, info: Question) -> float:
    """How close position ``pos`` is to the question's terms in the sentence (smaller is closer)."""
    folded = fold(s.text)
    best = len(folded)
    for t in info.terms:
        for m in re.finditer(re.escape(t.lstrip("@")[:5]), folded):
            best = min(best, abs(m.start() - pos))
    return best


def figure_options(info: Question, s: Sentence) -> list[Figure]:
    """The figures in ``s`` that can answer a how-many/how-much question: not one the question
    states (unless it restates the answer), of the asked dimension ("how deep": a depth)."""
    figs = quantities(s)
    stated = [f for f in figs if f.value in info.numbers]
    figs = [f for f in figs if f.value not in info.numbers]  # a figure the question states is not the answer
    if stated and PART_OF.search(info.folded):
        # "How much of the 90 million was spent on schools?": the answer is a part of the
        # stated figure, so it shares the question's words, not just the sentence.
        figs = [f for f in figs if clause_terms(s, f, info, words_only=True) > 0]
    elif not figs:
        figs = stated  # "How much will it cost, 450 million?": the question may restate the answer
    if info.dimension:
        figs = [f for f in figs if measures(f, s, info.dimension)]
    return figs


def figure_answer(info: Question, s: Sentence) -> Figure | None:
    """The figure of ``figure_options`` nearest the question's key terms, for arithmetic (the
    direct answer of a how-many question is the span model's choice: ``decision.spans``)."""
    figs = figure_options(info, s)
    if not figs:
        return None
    if info.head_noun:
        head = fold(info.head_noun)[:5]
        with_unit = [f for f in figs if f.unit and fold(f.unit).startswith(head)]
        if with_unit:
            return with_unit[0]
    if info.kind == "how_much":
        money = [f for f in figs if f.scale_word or f.unit]
        if money:
            figs = money
    return min(figs, key=lambda f: (-clause_terms(s, f, info), _near_terms(s, f.start, info)))


PART_OF = re.compile(
    r"\b(how (much|many)|what (share|part|portion|proportion|fraction))\b.{0,12}\b(of|out of)\b"
)
_FIGURE_WORDS = set(content_terms(" ".join([*SCALE_WORDS, FIGURE_OWN_WORDS])))
_CLAUSE_BREAK = re.compile(r"[,;:–—()]|\b(while|whereas|but|and then)\b", re.IGNORECASE)


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause of ``text`` around ``text[start:end]``: from after the last break (a comma,
    a dash, "while", "but" ...) before it to the first break after it."""
    breaks = list(_CLAUSE_BREAK.finditer(text))
    lo = max((m.end() for m in breaks if m.end() <= start), default=0)
    hi = min((m.start() for m in breaks if m.start() >= end), default=len(text))
    return lo, hi


def clause_terms(s: Sentence, f: Figure, info: Question, words_only: bool = False) -> int:
    """How many question terms share the figure's clause ("..., while the national government
    will pay about 200 million": national, government). ``words_only``: not counting the
    figures' own words ("million", "euros"), which every money clause shares."""
    lo, hi = clause_bounds(s.text, f.start, f.end)
    clause = set(content_terms(s.text[lo:hi]))
    terms = set(info.terms)
    if words_only:
        terms = {t for t in terms if not re.fullmatch(r"[\d.,]+", t) and t not in _FIGURE_WORDS}
    return len(clause & terms)


def entity_answers(info: Question, s: Sentence, labels: frozenset[str]) -> list[Entity]:
    """Entities of the wanted labels in ``s`` that the question does not already name."""
    q = _q_keys(info)
    q_terms = set(info.terms)
    out: list[Entity] = []
    seen: set[str] = set()
    for e in s.entities:
        if not wanted(e, s, info, labels):
            continue
        keys = set(entity_keys(e.text))
        if _names_the_question(keys, q) or (keys and keys <= q_terms):
            continue
        name = clean_entity(e.text, e.label)
        if fold(name) in seen or not name:
            continue
        seen.add(fold(name))
        out.append(Entity(name, e.label, e.start, e.end))
    return out


def _names_the_question(keys: set[str], q: set[str]) -> bool:
    """Is this entity (one of) the question's own names? Any shared word says so for a short
    name ("Ana Costa" for "Mayor Costa"); a longer one must share half its words
    ("Pride of Kenyan Girls" is not "the Kenyan team" of the question)."""
    shared = keys & q
    return bool(shared) and (len(keys) < 3 or 2 * len(shared) >= len(keys))


# Leading words dropped from an entity answer: articles, and before a person's name the role
# titles (no nationality list: the five demonyms once here were those of one article;
# tests/test_eval_lexicon.py guards this).
ARTICLES = frozenset({"the", "a", "an"})


def clean_entity(text: str, label: str = "PERSON") -> str:
    """Drop leading articles, and role titles before a person's name: "the president Anna
    Berg" -> "Anna Berg" (an organisation keeps its words: "Premier League")."""
    drop = ARTICLES | ROLE_TITLE_WORDS if label == "PERSON" else ARTICLES
    parts = text.split()
    while parts and fold(parts[0]) in drop:
        parts = parts[1:]
    return " ".join(parts) if parts else text


def entity_options(info: Question, s: Sentence, labels: frozenset[str]) -> list[Entity]:
    """The entities of ``s`` that could be a who/where/when/name answer ("What is X called?"
    wants a proper name, not any entity of the label)."""
    cands = entity_answers(info, s, labels)
    if info.kind == "name":
        cands = [e for e in cands if named(e, s)]
    return cands


def readable(text: str) -> str:
    """Tidy a source sentence for the answer text (the citation keeps it exact)."""
    t = text.strip()
    t = re.sub(r"^[,;:.\s]+", "", t)
    if t and t[0].islower():
        t = t[0].upper() + t[1:]
    return t
