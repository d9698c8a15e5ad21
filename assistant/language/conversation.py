"""Turn a follow-up into a standalone question using the conversation so far.

Three kinds of follow-up, resolved before retrieval:
* elliptical — "And the Americans?", "What about Italy?": the previous question with its
  name swapped for the new one ("How much did the Americans provide?");
* pronoun / role — "What did he say next?", "What did the Italian one clarify?": pronouns are
  replaced by the person the last answer was about, and the previous topic is kept;
* continuation — "next", "after that", "what else": the answer moves on from the sentences
  the last answer cited (found by matching its text back to the documents).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.core.types import Message, Sentence
from assistant.language.question import question_entities
from assistant.language.text import STOPWORDS, content_terms, fold, is_alias


@dataclass(frozen=True)
class Turn:
    """The question as the answerer sees it, after resolving the conversation."""

    question: str  # what the user typed (cleaned)
    query: str  # the standalone question used for answering
    context: str = ""  # extra topic words from earlier turns, used for retrieval only
    previous_keys: tuple[tuple[str, int], ...] = ()  # sentences the last answer relied on
    follow_up: bool = False
    wants_next: bool = False
    notes: list[str] = field(default_factory=list)
    dangling: str = ""  # a follow-up word with nothing before it to refer to ("he" on an empty chat)


_ELLIPSIS = re.compile(
    r"^\s*(and|what about|how about|and what about|same for|what of|and for|also)\b", re.IGNORECASE
)
_PRONOUN = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|it|its|this|that|these|those|"
    r"there|then|the (?:latter|former)|the \w+ one)\b",
    re.IGNORECASE,
)
_NEXT = re.compile(
    r"\b(next|after that|afterwards|then|else|more|further|continue|go on|"
    r"what followed)\b",
    re.IGNORECASE,
)
_SUBJECT_PRONOUN = re.compile(r"\b(he|she|him|his|her)\b", re.IGNORECASE)
_ONWARD = re.compile(
    r"\b(next|else|afterwards|after that|then)\s*[?.!]*\s*$|\b(continue|go on|what followed)\b", re.IGNORECASE
)
_PERSONAL = frozenset("he she him his her hers they them their theirs".split())
_POSSESSIVE = frozenset("his her their".split())
_VAGUE = frozenset("it its this that these those".split())
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# share of a sentence's terms the last answer must repeat for it to count as cited
# (``followup_lookup`` keeps every row that passes this test, so both read it here)
CITED_OVERLAP = 0.6


class Lookup(Protocol):
    """Follow-up look-ups over the allowed sentences (``followup_lookup.BoundLookup``)."""

    def quoted(self, answer_text: str) -> Sequence[Sentence]:
        """The sentences that may be quoted in or overlap ``answer_text`` (a superset, in order)."""
        ...

    def is_person_word(self, word: str) -> bool:
        """Does a sentence tag the folded ``word`` as part of a person's name?"""
        ...


def person_words(s: Sentence) -> list[str]:
    """Folded words of the person names ``s`` tags: what a conversation's name is checked
    against (the query cache stores them per document for ``followup_lookup``)."""
    return [fold(w) for e in s.entities if e.label == "PERSON" for w in e.text.split()]


def _cited_sentences(answer_text: str, sentences: Sequence[Sentence]) -> list[Sentence]:
    """Sentences the previous answer quoted (exact text), else those it overlaps most."""
    folded = fold(" ".join(answer_text.split()))
    exact = [s for s in sentences if len(s.text) > 12 and fold(" ".join(s.text.split()))[1:-1] in folded]
    if exact:
        return exact
    a_terms = set(content_terms(answer_text))
    if not a_terms:
        return []
    scored = []
    for s in sentences:
        st = set(content_terms(s.text))
        if st:
            overlap = len(st & a_terms) / len(st)
            if overlap >= CITED_OVERLAP:
                scored.append((overlap, s))
    scored.sort(key=lambda x: -x[0])
    return [s for _, s in scored[:2]]


def _last_person(
    texts: list[str], cited: list[Sentence], sentences: Sequence[Sentence], lookup: Lookup | None = None
) -> str:
    """The person the conversation was last about: from the cited sentences, else the most
    recent name in ``texts`` (newest first) that the documents tag as a person."""
    for s in reversed(cited):
        people = [e.text for e in s.entities if e.label == "PERSON"]
        if people:
            return people[-1]
    if lookup is not None:
        known: Callable[[str], bool] = lookup.is_person_word
    else:
        known = {w for s in sentences for w in person_words(s)}.__contains__
    for t in texts:
        names = [n for n in question_entities(t) if not is_alias(fold(n))]
        persons = [n for n in names if any(known(fold(w)) for w in n.split())]
        if persons:
            return persons[-1]
    return ""


def _swap_entity(prev_q: str, new_names: list[str]) -> str:
    """Replace the name(s) in ``prev_q`` with ``new_names`` (or append them)."""
    old = question_entities(prev_q)
    if old and new_names:
        out = prev_q
        for o, n in zip(old, new_names, strict=False):
            # a function, not ``n`` itself: user text is never a replacement template ("And \\2?")
            out = re.sub(rf"\b(the\s+)?{re.escape(o)}\b", lambda _m, n=n: n, out, count=1)  # type: ignore[misc]
        return out
    return f"{prev_q.rstrip('?')} {' '.join(new_names)}?"


def _continuation(question: str) -> str:
    """The opener of an elliptical follow-up ("And the Americans?") or the word of a "what
    happened next / what else" request, or ''. Stricter than ``_NEXT``: "the next meeting"
    and "how many more troops" stand on their own."""
    rest = _ELLIPSIS.sub("", question).strip(" ?.!")
    opener = _ELLIPSIS.match(question)
    if opener and not _starts_question(rest):
        return opener.group(0).strip()
    match = _ONWARD.search(question)
    return match.group(1) if match else ""


def _starts_question(text: str) -> bool:
    return bool(
        re.match(
            r"(who|whom|whose|what|which|where|when|why|how|is|are|was|were|do|"
            r"does|did|has|have|had|will|would|can|could)\b",
            fold(text),
        )
    )


def dangling_reference(question: str) -> str:
    """The word of ``question`` that needs an earlier turn to mean anything, or ''.

    Used on an empty chat: "What did he say next?" or "And the Americans?" has nothing to
    follow on. Only short questions (at most three content words, as for follow-ups in
    ``resolve``) count; a personal pronoun counts when no content word comes before it (in
    "What did the president say about his plans?" "his" has its antecedent); "it/this/that"
    only when the question has no content word at all ("Where was it held?").
    """
    q_terms = [t for t in content_terms(question) if t not in STOPWORDS]
    if len(q_terms) > 3:
        return ""  # enough of its own to look for: "In what way has he confirmed his support for X?"
    onward = _continuation(question)
    if onward:
        return onward
    seen_content = False
    tokens = _WORD.findall(question)
    # "Who gave their name to Normandy?": a wh-subject is the possessive's antecedent
    bound = bool(tokens) and fold(tokens[0]) in ("who", "which", "whom")
    for token in tokens:
        low = fold(token)
        if low in _PERSONAL and not seen_content and not (bound and low in _POSSESSIVE):
            return token
        seen_content = seen_content or bool(content_terms(token))
    if not q_terms and not question_entities(question):
        vague = [t for t in _WORD.findall(question) if fold(t) in _VAGUE]
        return vague[0] if vague else ""
    return ""


def resolve(
    question: str, history: list[Message], sentences: Sequence[Sentence], lookup: Lookup | None = None
) -> Turn:
    """Return the standalone ``Turn`` for ``question`` given earlier ``history``.

    ``sentences`` are the ones the answer may use (a document filter applies here too): the
    previous answer's sentences and the person it was about are looked up among them only.
    ``lookup`` (large corpora, ``assistant.retrieval.followup_lookup``) finds both without reading
    every one of them.
    """
    users = [m.content for m in history if m.role == "user" and m.content.strip()]
    assistants = [m.content for m in history if m.role == "assistant" and m.content.strip()]
    if not users and not assistants:
        return Turn(question=question, query=question, dangling=dangling_reference(question))
    prev_q = users[-1] if users else ""
    prev_a = assistants[-1] if assistants else ""
    pool = lookup.quoted(prev_a) if lookup is not None and prev_a else sentences
    cited = _cited_sentences(prev_a, pool) if prev_a else []
    keys = tuple(s.key for s in cited)
    q_terms = [t for t in content_terms(question) if t not in STOPWORDS]
    names = question_entities(question)
    short = len(q_terms) <= 3

    rest = _ELLIPSIS.sub("", question).strip(" ?.!")
    # "And the Americans?" borrows the previous question; "And which ones were skeptics?" is a
    # question of its own that merely starts with "and".
    full_question = _starts_question(rest)
    if _ELLIPSIS.match(question) and short and prev_q and not full_question:
        new = names or ([rest] if rest else [])
        query = _swap_entity(prev_q, new) if new else prev_q
        return Turn(question, query, previous_keys=keys, follow_up=True, notes=[f"ellipsis over: {prev_q}"])

    wants_next = bool(_NEXT.search(question)) and short
    has_pronoun = bool(_PRONOUN.search(question))
    if not (has_pronoun or wants_next or (short and not names)):
        return Turn(question=question, query=question)

    query = question
    person = _last_person([prev_a, prev_q], cited, sentences, lookup)
    if person and _SUBJECT_PRONOUN.search(question):
        query = _SUBJECT_PRONOUN.sub(
            lambda m: person + ("'s" if m.group(1).lower() in ("his",) else ""), question, count=1
        )
    # Keep the topic of the previous question for retrieval ("the Italian one" -> Italy + topic).
    topic = " ".join(t for t in content_terms(prev_q) if not t.startswith("@"))
    return Turn(
        question,
        query,
        previous_keys=keys,
        follow_up=True,
        wants_next=wants_next,
        context=topic if not wants_next else "",
        notes=[f"resolved with: {prev_q}"],
    )
