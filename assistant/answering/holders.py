"""Whose X? A sentence about another named holder does not answer for the one asked about.

"Who coached the Peruvian team?" must not be answered from "the Kenyan team's coach, Ana
Ruiz": the question ties a name to a noun ("Peruvian team"), the sentence ties a different
name to the same noun ("Kenyan team"). Names are matched through the country/demonym aliases
(``assistant.language.text``), so "the US team" holds for "the American team".

Why a check of its own: term overlap, dense similarity and the name check all pass on such a
sentence — the question's name is usually somewhere near (a neighbour sentence mentions
Peru) and everything else in it matches. Only sentences that name some *other* holder of
the noun are caught; a sentence that names no holder says nothing either way.
"""

from __future__ import annotations

import re

from assistant.language.lexicon import noun_class
from assistant.language.text import STOPWORDS, expand_alias, fold

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
    return _holders(toks, [_plain(t) for t in toks], noun)


def _holders(toks: list[str], plain: list[str], noun: str) -> set[str]:
    """``sentence_holders`` over the sentence's tokens and their ``_plain`` forms."""
    forms = {noun, noun + "s", noun + "es"}
    out: set[str] = set()
    for i in range(1, len(toks)):
        if plain[i] not in forms:
            continue
        j = i - 1
        while j >= 0 and _is_name(toks[j]):  # "Prime Minister Starmer's team": all of it
            out.add(expand_alias(plain[j]))
            j -= 2 if j >= 2 and plain[j - 1] in _JOINERS else 1  # "British and French troops"
    return out


def other_holder(question: str, sentence: str) -> str:
    """The noun the sentence gives to another named holder than the question does ('' when
    none): the sentence names holders of that noun, and the question's is not among them.

    Left alone, because the sentence may still be about the question's holder: when that
    name is anywhere in the sentence ("Peru earned ... from Chinese copper purchases" does
    answer about Peruvian copper), and for nouns of people and places, which are often named
    without their holder ("the Mexican president" may be named only as "Lopez"; "the Lima
    center" may be "the Jorge Chavez Center")."""
    asked = [(k, n) for k, n in question_holders(question) if noun_class(n) not in ("person", "location")]
    if not asked:  # most questions: the sentence is not read at all
        return ""
    toks = _tokens(sentence)
    plain = [_plain(t) for t in toks]
    mentioned = {expand_alias(p) for p in plain}
    for key, noun in asked:
        if key in mentioned:
            continue
        held = _holders(toks, plain, noun)
        if held and key not in held:
            return noun
    return ""
