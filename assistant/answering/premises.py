"""Checks of what a question takes for granted, and of what it asks about that is absent.

Why its own module: a premise check decides between answering, correcting the question and
refusing, and several stages ask it (``assistant.answering.answer``: substituted names, negative
premises, a figure or topic the documents never mention).
"""

from __future__ import annotations

import re

from assistant.answering.draft import REFUSAL_NOT_STATED, Draft, join_names
from assistant.answering.extract import readable
from assistant.answering.support import Evidence, SentenceContext
from assistant.core.types import Sentence
from assistant.language.figures import find_figures
from assistant.language.lexicon import says_the_opposite
from assistant.language.patterns import NEGATIVE_IMPLICATIVE, POLARITY_NEGATION, PREMISE_NEGATION
from assistant.language.question import Question, entity_keys, parse_number_word
from assistant.language.text import content_terms, fold, words


def premise_problem(info: Question, ctx: SentenceContext, idxs: list[int]) -> str:
    """Why the question's presupposition is not what the documents say ('' when it is)."""
    window = set().union(*(ctx.terms[j] for j in idxs))
    text = " ".join(ctx.sentences[j].text for j in idxs)
    if (
        info.negative_premise
        and not any(v in window or info.synonyms.get(v, frozenset()) & window for v in info.negative_premise)
        and not PREMISE_NEGATION.search(fold(text))
    ):
        return "negative"
    if info.numbers and info.kind in ("why", "yesno"):
        figs = [f.value for j in idxs for f in find_figures(ctx.sentences[j].text)]
        if figs and not any(abs(n - v) < 1e-6 for n in info.numbers for v in figs):
            return "number"
    return ""


def polarity_differs(info: Question, s: Sentence) -> bool:
    """The clause of ``s`` that best matches the question is negated and the question is not
    (or the reverse; ``_negated`` reads both the same way): the yes/no answer is then "No". A
    clause that says the opposite word ("excluded" for "included", WordNet antonyms) counts as
    a negation; "not excluded" as none.
    Another clause denies the question too when a word the question asks about stands in the
    scope of its negation: "The port plans a rail link, although *no budget* has been set" for
    "Has a budget been set for the rail link?", where the best-matching clause is the link's."""
    clauses = re.split(r"[,;:–—]", fold(s.text))
    terms = set(info.terms)
    best = max(clauses, key=lambda c: len(terms & set(content_terms(c))))
    negated = _negated(best) != says_the_opposite(info.text, best)
    # "Will X face sanctions if it refuses to talk?": the question's own negation counts; the
    # contracted auxiliary it opens with does not ("Didn't the council approve it?" asks whether
    # it did: "Yes" when it did, as English answers such questions)
    asked_negated = _negated(_LEADING_NEGATIVE_AUX.sub("", info.folded))
    if not negated and not asked_negated:
        negated = any(terms & set(_denied_terms(c)) for c in clauses if c is not best)
    return negated != asked_negated


def _cues(clause: str) -> list[re.Match[str]]:
    """The clause's first negation word and first negative implicative verb ("refused to
    endorse": not endorsed), those it has."""
    return [m for m in (POLARITY_NEGATION.search(clause), NEGATIVE_IMPLICATIVE.search(clause)) if m]


_LEADING_NEGATIVE_AUX = re.compile(r"^\W*[a-z]+n['’]t\b")


def _negated(clause: str) -> bool:
    """A negation word or a negative implicative verb, but not both ("did not fail to sign":
    signed)."""
    return len(_cues(clause)) == 1


def _denied_terms(clause: str) -> list[str]:
    """The content terms in the scope of a negated clause's negation: from its cue to the
    clause's end (a negation in English scopes over what follows it in its clause)."""
    cues = _cues(clause)
    return content_terms(clause[cues[0].end() :]) if len(cues) == 1 else []


_PLACE_LIKE = frozenset({"GPE", "LOC", "ORG", "NORP", "FAC"})


def presupposition_correction(info: Question, ctx: SentenceContext, cands: list[Evidence]) -> Draft | None:
    """A why/yes-no question presupposes its content ("Why will the HQ be in Berlin?"). When one
    sentence supports all of it except a name, and puts another name of the same kind in its
    place, the premise is wrong: say so and cite what the documents do say."""
    if info.kind not in ("why", "yesno") or not info.entities:
        return None
    for c in cands[:3]:
        if (
            c.entities_found >= 1.0
            or c.predicate < ctx.policy.premise_predicate
            or c.dense < ctx.policy.premise_dense
        ):
            continue
        window = set().union(*(ctx.names[j] for j in ctx.window(c.index)))
        absent = [
            n
            for n, ks in zip(info.entities, info.entity_keys, strict=True)
            if ks and not any(k in window for k in ks)
        ]
        if not absent:
            continue
        q_keys = {k for ks in info.entity_keys for k in ks}
        subs = [e.text for e in c.sentence.entities if not (set(entity_keys(e.text)) & q_keys)]
        groups = _label_group_of_names(absent, ctx)
        subs = [e.text for e in c.sentence.entities if e.text in subs and (not groups or e.label in groups)]
        if not subs:
            continue
        draft = Draft()
        n = draft.cite(c.sentence, c.score)
        lead = "No." if info.kind == "yesno" else "The question's premise does not match the documents."
        draft.short = "No" if info.kind == "yesno" else ""
        draft.text = (
            f"{lead} They do not say this about {join_names(absent)}; they mention {join_names(subs)}: "
            f"{readable(c.sentence.text)} [{n}]"
        )
        return draft
    return None


def _label_group_of_names(names: list[str], ctx: SentenceContext) -> frozenset[str]:
    """The entity labels the documents give these names (empty when they never appear)."""
    if all(_DATE_WORD.search(n) for n in names):
        return frozenset({"DATE", "TIME"})
    keys = {k for n in names for k in entity_keys(n)}
    return frozenset(ctx.labels_of(keys)) or _PLACE_LIKE  # an index, not a pass over every sentence


_DATE_WORD = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|\d{4})\b",
    re.IGNORECASE,
)


def absent_ask(info: Question, ctx: SentenceContext, best: Evidence) -> str:
    """A refusal text when the question asks about something the documents never mention
    (no word for it, no WordNet synonym of it); '' otherwise.

    - the thing asked about: "What is the *budget* of ...?" (not a kind of answer such as
      "which *city*", nor a generic "what is the *role* of ...?");
    - a number the question sets as a condition ("... in the *third* year?");
    - the topic of "What did X say about *T*?" when X's sentence does not mention it.
    """

    def absent(term: str) -> bool:
        return term not in ctx.corpus_terms and term not in info.synonyms and not term.startswith("@")

    focus = content_terms(info.focus)
    if len(focus) == 1 and absent(focus[0]):
        return f"{REFUSAL_NOT_STATED} that: they never mention any “{fold(info.focus)}”."
    # A number the question sets as a condition ("in the third year"); figure questions often
    # quote one as context ("Of the 26 countries, how many ...?"), and "why"/yes-no ones
    # get a correction instead.
    if info.kind not in ("arithmetic", "why", "yesno", "how_many", "how_much"):
        given = [n for n in info.numbers if not (n.is_integer() and 1900 <= n <= 2100)]
        text = " ".join(ctx.sentences[j].text for j in ctx.window(best.index))
        found = {f.value for f in find_figures(text)} | {
            v for w in words(text) if (v := parse_number_word(w)) is not None
        }
        missing = [n for n in given if n not in found]
        if missing and len(missing) == len(given):
            said = next((t for v, t in info.number_surfaces if v == missing[0]), "that")
            return f"{REFUSAL_NOT_STATED} that: the passage about it does not mention “{said}”."
    if info.kind == "quote" and info.entities and info.about_terms:
        topic = info.about_terms
        pool = set().union(*(ctx.terms[j] for j in ctx.window(best.index)))
        if topic and not any(t in pool or info.synonyms.get(t, frozenset()) & pool for t in topic):
            return f"{REFUSAL_NOT_STATED} that: {info.entities[0]} is not reported saying anything about it."
    return ""
