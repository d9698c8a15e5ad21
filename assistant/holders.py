"""Whose X? A sentence about another named holder does not answer for the one asked about.

"Who coached the Peruvian team?" must not be answered from "the Kenyan team's coach, Ana
Ruiz": the question ties a name to a noun ("Peruvian team"), the sentence ties a different
name to the same noun ("Kenyan team"). Names are matched through the country/demonym aliases
(``assistant.text``), so "the US team" holds for "the American team".

Why a check of its own: term overlap, dense similarity and the name check all pass on such a
sentence — the question's name is usually somewhere near (a neighbour sentence mentions
Peru) and everything else in it matches. Only sentences that name some *other* holder of
the noun are caught; a sentence that names no holder says nothing either way.
"""

from __future__ import annotations

import re

from assistant.lexicon import noun_class
from assistant.text import STOPWORDS, expand_alias, fold

_TOKEN = re.compile(r"[A-Za-z\u00C0-\u024F][\w\u00C0-\u024F’'-]*")
_JOINERS = frozenset({"and", "or", "&"})


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _plain(token: str) -> str:
    """Folded, without a possessive ending ("team's" -> "team", "Kenyans'" -> "kenyans")."""
    return re.sub(r"['’]s?$", "", fold(token))


def _name_key(token: str) -> str:
    return expand_alias(_plain(token))


def _is_name(token: str) -> bool:
    return token[:1].isupper() and fold(token).strip("'’") not in STOPWORDS


def _same_noun(a: str, b: str) -> bool:
    a, b = _plain(a), _plain(b)
    return a == b or a + "s" == b or a + "es" == b


def question_holders(question: str) -> list[tuple[str, str]]:
    """(name key, noun) for every name the question puts directly before a common noun:
    "the Chilean team's robot" -> ("@chile", "team"). Not the opening word."""
    toks = _tokens(question)
    out = []
    for i in range(1, len(toks) - 1):
        noun = toks[i + 1]
        if _is_name(toks[i]) and noun.islower() and _plain(noun) not in STOPWORDS:
            out.append((_name_key(toks[i]), _plain(noun)))
    return out


def sentence_holders(sentence: str, noun: str) -> set[str]:
    """Name keys written directly before ``noun`` (or its plural) in the sentence, with the
    names before them and those coordinated with them: "the Chilean and Dutch teams"
    -> both. More names only make a conflict rarer."""
    toks = _tokens(sentence)
    out: set[str] = set()
    for i in range(1, len(toks)):
        if not _same_noun(noun, toks[i]):
            continue
        j = i - 1
        while j >= 0 and _is_name(toks[j]):  # "Prime Minister Starmer's team": all of it
            out.add(_name_key(toks[j]))
            j -= 2 if j >= 2 and fold(toks[j - 1]) in _JOINERS else 1  # "British and French troops"
    return out


def other_holder(question: str, sentence: str) -> str:
    """The noun the sentence gives to another named holder than the question does ('' when
    none): the sentence names holders of that noun, and the question's is not among them.

    Left alone, because the sentence may still be about the question's holder: when that
    name is anywhere in the sentence ("Russia received ... for EU crude oil sales" does
    answer about Russian crude), and for nouns of people and places, which are often named
    without their holder ("the French president" is "Macron"; "the Houston center" is "the
    Johnson Space Center")."""
    mentioned = {_name_key(t) for t in _tokens(sentence)}
    for key, noun in question_holders(question):
        if key in mentioned or noun_class(noun) in ("person", "location"):
            continue
        held = sentence_holders(sentence, noun)
        if held and key not in held:
            return noun
    return ""
