"""Does a sentence (with its neighbours) hold what the question asks for?

Support is described by features we can check (``Evidence``): the question's key terms
(IDF-weighted), the names it mentions, the kind of fact it asks for (a person, a place, a
figure, a date), the dense similarity, who speaks and who holds what. How much each counts,
and whether together they answer, is learned (``assistant.answering.decision``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from assistant.answering.holders import other_holder
from assistant.answering.policy import AnswerPolicy
from assistant.core.corpus import CorpusSentences, CorpusTerms
from assistant.core.doc_rows import DocRows
from assistant.core.lazy_rows import LazyMap, LazyRows
from assistant.core.types import Entity, Sentence
from assistant.language.figures import Figure, measures, quantities
from assistant.language.patterns import CURRENCY, ROLE_PATTERN, ROLE_TITLES
from assistant.language.question import SALIENT_KEY, Question, entity_keys
from assistant.language.text import SPEECH_VERBS, content_terms, fold, words

# A sentence that leans on its neighbour for meaning ("That is the point ...", "It is ...").
# "That is the point ...", "It is ...", "These three countries ..." lean on the sentence
# before; "This force does not ..." (a determiner before a noun) usually does not.
ANAPHORIC_START = re.compile(
    r"^\W*((that|this)\s+(is|was|are|were|has|had|will|would|can|could|means|"
    r"meant|shows|explains|includes)\b|(these|those|it|such|they|he|she|there|"
    r"so|thus|therefore)\b)",
    re.IGNORECASE,
)
ROLE = re.compile(rf"\b({ROLE_PATTERN})\b", re.IGNORECASE)
_ROLE_TERMS = frozenset(content_terms(" ".join(ROLE_TITLES)))
ROLE_OR_PRONOUN = re.compile(rf"\b(he|his|him|she|her|{ROLE_PATTERN})\b", re.IGNORECASE)

# How much each feature counts is learned: assistant/answering/decision (card: assistant/models/decision.md).


@dataclass(frozen=True)
class Evidence:
    """A candidate sentence scored for one question."""

    index: int  # row in the retriever's sentence list
    sentence: Sentence
    retrieval: float
    dense: float
    coverage: float  # IDF-weighted share of question terms found in the sentence/window
    own_coverage: float  # the same, in the sentence alone
    predicate: float  # coverage of the non-name terms (what is said about the names)
    oov: float  # share of the question's non-name terms found nowhere in the documents
    entities_found: float  # share of question names found in the window
    type_ok: bool  # holds the kind of fact asked for
    score: float  # P(this sentence holds the answer), from the decision model (0 until scored)
    oov_strict: float = 0.0  # like ``oov``, forgiving only words paraphrased in this very sentence
    anchor_missing: bool = False  # the question's rarest document word is not in the window
    quoted: bool = False  # a "what did X say?" question and the sentence holds a quote
    exact_quote: bool = False  # holds, word for word, a phrase the question quotes
    wrong_speaker: bool = False  # a quote question, and someone other than the asked speaker speaks
    other_holder: bool = False  # gives what is asked about to another named holder (``holders``)
    rank: int = 0  # position in the retrieval order (0 = retrieval's first)
    n_missing: int = 0  # question terms (and their synonyms) absent from the window
    missing_weight: float = 0.0  # the rarest of them: its IDF over the largest possible IDF


@dataclass(frozen=True)
class _People:
    """Who a document names: last-name key -> fullest name, and its main actor's key."""

    names: dict[str, str]
    salient: str  # '' when no one is mentioned at least 3 times


class SentenceContext:
    """Neighbourhood and term statistics over the indexed sentences.

    Everything corpus-wide or per document (document frequencies, corpus names, entity labels,
    each sentence's words, who each document names) is read from the query cache's tables
    (``core.corpus``), which computed it at build time with this module's ``document_people``,
    ``sentence_names`` and ``entity_label_index``: there is no second way of computing them.
    Per-sentence sets (``terms``, ``names``) and per-document facts (``person_names``,
    ``salient_name``) are made when first read: a question reads a few dozen sentences, and
    making all of them up front cost 45 s at 106k sentences.
    """

    def __init__(
        self, sentences: CorpusSentences, terms: CorpusTerms, policy: AnswerPolicy | None = None
    ) -> None:
        """``sentences``/``terms``: the index's tables (``IndexSnapshot.sentences``/``.terms``);
        ``policy``: the hand-set numbers of the rules that read this context (default values)."""
        self.sentences = sentences
        self.policy = policy or AnswerPolicy()
        self.rows = DocRows(sentences)
        n_rows = len(sentences)
        self.terms: Sequence[set[str]] = LazyRows(n_rows, lambda i: set(terms[i]))
        self.names: Sequence[set[str]] = LazyRows(n_rows, self._names_of)
        self._people: LazyMap[str, _People] = LazyMap(self._people_of)
        self.person_names = LazyMap[str, dict[str, str]](lambda d: self._people[d].names)
        # the main actor's fullest name in its document (documents that have one)
        self.salient_name = LazyMap[str, str](self._salient_name_of)
        df = terms.document_frequencies()
        n = max(1, n_rows)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self.default_idf = math.log(1 + n)
        self.corpus_terms: set[str] = set(df)
        self.corpus_names: frozenset[str] = terms.corpus_names()
        self._stats = terms
        self._entity_labels: dict[str, frozenset[str]] | None = None

    def labels_of(self, keys: set[str]) -> set[str]:
        """The entity labels the documents give to entities with any of these name keys
        (``analysis.entity_keys``), from the cache's index (read once, on first use)."""
        labels = self._labels()
        return set().union(*(labels.get(k, frozenset()) for k in keys))

    @property
    def entity_names(self) -> Collection[str]:
        """Every name key of the documents' entities (what a misspelt name is matched to)."""
        return self._labels().keys()

    def _labels(self) -> dict[str, frozenset[str]]:
        if self._entity_labels is None:
            self._entity_labels = {k: frozenset(v) for k, v in self._stats.entity_labels().items()}
        return self._entity_labels

    def _people_of(self, doc_id: str) -> _People:
        """Who ``doc_id`` names and its main actor, as the cache stores them (``document_people``)."""
        stored = self.sentences.doc_people(doc_id)
        if stored is None:
            raise KeyError(doc_id)
        return _People(*stored)

    def _salient_name_of(self, doc_id: str) -> str:
        people = self._people[doc_id]
        if not people.salient:
            raise KeyError(doc_id)
        return people.names[people.salient]

    def _names_of(self, i: int) -> set[str]:
        """Sentence ``i``'s names (``sentence_names``) from its stored words and its document's
        main actor."""
        s = self.sentences[i]
        people = self._people.get(s.doc_id)
        main = people.salient if people is not None else ""
        return sentence_names(s, self.terms[i], self.sentences.sentence_words(i), main)

    def sayers(self, i: int) -> set[str]:
        """Name keys of whoever speaks in sentence ``i``: names next to a verb of saying; "he
        said" is the main actor; a bare quote is spoken by the previous sentence's speaker."""
        s = self.sentences[i]
        toks = words(s.text)
        out: set[str] = set()
        main = self.salient_name.get(s.doc_id, "")
        main_key = words(main)[-1] if main and words(main) else ""
        people = self.person_names.get(s.doc_id, {})
        for t, w in enumerate(toks):
            if w not in SPEECH_VERBS:
                continue
            near = toks[max(0, t - 4) : t + 5]
            out |= {k for k in near if k in people}  # names the document tags as people elsewhere too
            if main_key and (set(near) & {"he", "she"} or ROLE_OR_PRONOUN.search(" ".join(near))):
                out.add(main_key)
        if not out and re.search(r"[“”\"]", s.text) and i > 0 and self.sentences[i - 1].doc_id == s.doc_id:
            prev = self.sentences[i - 1]
            if any(w in SPEECH_VERBS for w in words(prev.text)):
                return self.sayers(i - 1)
        return out

    def role_refers_to_salient(self, i: int) -> str:
        """The main actor's name when sentence ``i`` refers to someone by role only."""
        s = self.sentences[i]
        name = self.salient_name.get(s.doc_id, "")
        if name and not any(e.label == "PERSON" for e in s.entities) and ROLE.search(s.text):
            return name
        return ""

    def window(self, i: int, before: int = 2, after: int = 1) -> list[int]:
        """Indices of ``i``'s neighbours in the same document (paragraph breaks allowed back
        to a heading, since a heading names its section's topic)."""
        s = self.sentences[i]
        out = []
        for j in range(i - before, i + after + 1):
            if 0 <= j < len(self.sentences) and self.sentences[j].doc_id == s.doc_id:
                out.append(j)
        return out

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.default_idf)

    def coverage(
        self,
        terms: tuple[str, ...],
        idxs: list[int],
        own: int,
        synonyms: dict[str, frozenset[str]] | None = None,
    ) -> tuple[float, float]:
        """IDF-weighted share of ``terms`` in the window ``idxs`` (own sentence counts fully,
        neighbours 0.6) and in sentence ``own`` alone; a synonym match counts ``w_synonym``."""
        if not terms:
            return 1.0, 1.0
        synonyms = synonyms or {}
        total = sum(self.weight(t) for t in terms)
        own_terms = self.terms[own]
        win_terms = set().union(*(self.terms[j] for j in idxs))

        def hit(t: str, pool: set[str]) -> float:
            if t in pool:
                return 1.0
            alts = synonyms.get(t)
            return self.policy.w_synonym if alts and alts & pool else 0.0

        own_hit = sum(self.weight(t) * hit(t, own_terms) for t in terms)
        win_hit = sum(
            self.weight(t) * max(hit(t, own_terms), self.policy.neighbour_hit * hit(t, win_terms))
            for t in terms
        )
        return win_hit / total, own_hit / total

    def names_found(self, keys: tuple[tuple[str, ...], ...], idxs: list[int]) -> float:
        if not keys:
            return 1.0
        pool = set().union(*(self.names[j] for j in idxs))
        hit = sum(1 for ks in keys if any(k in pool for k in ks))
        return hit / len(keys)

    def in_corpus(self, ks: tuple[str, ...]) -> bool:
        return any(k in self.corpus_names for k in ks)


def document_people(sentences: Iterable[Sentence]) -> tuple[dict[str, str], str]:
    """(last-name key -> fullest person name, main actor's key or '') of one document's
    sentences: what the cache stores per document (``CorpusSentences.doc_people``).

    Cheap document-level coreference: a sentence that refers to someone only by a role or a
    pronoun ("the French president", "he") also matches the person its document mentions most
    often (at least 3 times). News reports revolve around one main actor, so this links most
    such mentions without a coreference model."""
    counts: dict[str, int] = {}  # last-name key -> mentions
    names: dict[str, str] = {}  # last-name key -> fullest name
    for s in sentences:
        for e in s.entities:
            if e.label == "PERSON" and words(e.text):
                key = words(e.text)[-1]
                counts[key] = counts.get(key, 0) + 1
                if len(e.text) > len(names.get(key, "")):
                    names[key] = e.text
    salient = max(counts, key=counts.__getitem__) if counts and max(counts.values()) >= 3 else ""
    return names, salient


def sentence_names(s: Sentence, terms: set[str], sentence_words: list[str], main: str) -> set[str]:
    """The names sentence ``s`` matches: its ``terms`` and ``sentence_words``, plus its
    document's main actor ``main`` (a last-name key, '' for none) and ``SALIENT_KEY`` when it
    names them or refers to someone by role or pronoun only. ``SentenceContext.names`` per
    sentence; their union over the corpus is ``CorpusTerms.corpus_names``."""
    names = terms | set(sentence_words)
    if not main:
        return names
    if main in names:
        return names | {SALIENT_KEY}
    has_person = any(e.label == "PERSON" for e in s.entities)
    if ROLE_OR_PRONOUN.search(s.text) and not has_person:
        return names | {main, SALIENT_KEY}
    return names


def entity_label_index(sentences: Iterable[Sentence]) -> dict[str, list[str]]:
    """Name key -> the labels of the entities that have it (``CorpusTerms.entity_labels``,
    what ``SentenceContext.labels_of`` reads)."""
    index: dict[str, set[str]] = {}
    for s in sentences:
        for e in s.entities:
            for k in entity_keys(e.text):
                index.setdefault(k, set()).add(e.label)
    return {k: sorted(v) for k, v in index.items()}


def has_expected(info: Question, s: Sentence) -> bool:
    """True when ``s`` holds a fact of the kind the question asks for."""
    if not info.expected:
        return True
    labels = {e.label for e in s.entities}
    if info.kind in ("how_many", "how_much"):
        figures = quantities(s)
        if info.dimension:  # "how deep?": a figure in a unit of length
            return any(measures(f, s, info.dimension) for f in figures)
        if info.kind == "how_much":
            return bool(figures)
        return any(is_count(f, info.head_noun) for f in figures)
    if info.kind == "how_long":
        return any(e.label in ("DATE", "TIME") and DURATION.search(e.text) for e in s.entities)
    if info.kind == "name":  # "What is the project called?": a name right after "known as"
        return any(named(e, s) for e in s.entities)
    if info.kind in ("who", "where", "list"):  # a name the question does not already give
        q_names = {k for ks in info.entity_keys for k in ks}
        others = [
            e
            for e in s.entities
            if wanted(e, s, info, info.expected) and not (set(entity_keys(e.text)) & q_names)
        ]
        return bool(others)
    return bool(labels & info.expected)


_LOCATIVE = re.compile(r"\b(at|in|to|into|from|near|towards?)\s+(the\s+)?$", re.IGNORECASE)


def placelike(e: Entity, s: Sentence) -> bool:
    """A name tagged as an organisation that stands where a place does ("to the inland hub at
    Grey Point"): the small NER model often tags lesser-known places that way."""
    return e.label == "ORG" and bool(_LOCATIVE.search(s.text[max(0, e.start - 12) : e.start]))


def wanted(e: Entity, s: Sentence, info: Question, labels: frozenset[str]) -> bool:
    """Is ``e`` of a kind that answers ``info``: one of ``labels``, or, for a where-question, a
    place the NER model tagged as an organisation."""
    return e.label in labels or (info.kind == "where" and placelike(e, s))


_NAMING = re.compile(r"\b(known as|called|named|dubbed|titled)\s+(the\s+)?$", re.IGNORECASE)


def named(e: Entity, s: Sentence) -> bool:
    """``e`` is the name the sentence gives something ("the plan, known as the Blue Line ...")."""
    return bool(_NAMING.search(s.text[max(0, e.start - 16) : e.start]))


DURATION = re.compile(
    r"^(?!the next|next|last|the last|this|that)\W*(about |some |nearly |almost |over |more "
    r"than |less than |a |an |\d+(?:[.,]\d+)?[ -]?|[a-z]+[ -])*(minutes?|hours?|days?|weeks?|months?|years?|"
    r"decades?)\b",
    re.IGNORECASE,
)


def is_count(f: Figure, head_noun: str = "") -> bool:
    """A figure that counts things (not money, not "167,000 million" of something unnamed)."""
    if CURRENCY.search(f.unit or ""):
        return False
    if head_noun and f.unit and fold(f.unit)[:4] == fold(head_noun)[:4]:
        return True
    return not f.scale_word or bool(f.unit)


def asks_for_speaker(info: Question) -> bool:
    """ "Who said / described / announced ...?": the answer is whoever speaks."""
    return info.speech or "describ" in info.terms


def speaker_answer(info: Question, ctx: SentenceContext, index: int) -> str:
    """For "who said ...?": the full name of whoever speaks in sentence ``index`` ('' if none)."""
    q_keys = {k for ks in info.entity_keys for k in ks}
    people = ctx.person_names.get(ctx.sentences[index].doc_id, {})
    for key in sorted(ctx.sayers(index) - q_keys):
        if key in people:
            return people[key]
    return ""


def score_evidence(
    info: Question, ctx: SentenceContext, index: int, retrieval: float, dense: float
) -> Evidence:
    """The support features of a candidate sentence (``score`` is left for the decision model)."""
    p = ctx.policy
    s = ctx.sentences[index]
    idxs = ctx.window(index)
    cover, own = ctx.coverage(info.terms, idxs, index, info.synonyms)
    names = ctx.names_found(info.entity_keys, idxs)
    name_keys = {k for ks in info.entity_keys for k in ks}
    plain = tuple(t for t in info.terms if t not in name_keys and not t.startswith("@"))
    asks_about_main = any(SALIENT_KEY in ks for ks in info.entity_keys)  # the answer is someone else
    if asks_about_main:  # "the Élysée's chief": a name, not a predicate
        plain = tuple(t for t in plain if t not in _ROLE_TERMS) or plain
    predicate, _ = ctx.coverage(plain, idxs, index, info.synonyms) if plain else (cover, own)
    absent = [t for t in plain if t not in ctx.corpus_terms]
    own_terms = ctx.terms[index]
    # missing words not even paraphrased in this sentence (a synonym next door does not count)
    unmatched = [t for t in absent if not info.synonyms.get(t, frozenset()) & own_terms]
    oov_strict = len(unmatched) / len(plain) if plain else 0.0
    oov = sum(1 for t in absent if t not in info.synonyms) / len(plain) if plain else 0.0
    known = [t for t in plain if t in ctx.corpus_terms]
    anchor = max(known, key=ctx.weight) if known else ""
    window_terms = set().union(*(ctx.terms[j] for j in idxs))
    anchor_missing = bool(anchor) and anchor not in window_terms
    missing = [
        t
        for t in info.terms
        if not t.startswith("@")
        and t not in window_terms
        and not info.synonyms.get(t, frozenset()) & window_terms
    ]
    type_ok = has_expected(info, s)
    if (
        not type_ok
        and info.kind == "who"
        and (
            (ctx.role_refers_to_salient(index) and not asks_about_main)
            or (asks_for_speaker(info) and speaker_answer(info, ctx, index))
        )
    ):
        type_ok = True
    if not type_ok and info.expected and info.kind in ("how_many", "how_much", "when"):
        nxt = [j for j in ctx.window(index, 0, 1) if j != index]
        type_ok = any(has_expected(info, ctx.sentences[j]) for j in nxt) and own > p.type_next_own
    quoted = info.kind == "quote" and bool(re.search(r"[“”\"]", s.text))
    # A phrase the question quotes, found word for word, pins the sentence down.
    exact_quote = bool(info.quoted) and any(q in " ".join(fold(s.text).split()) for q in info.quoted)
    if exact_quote:
        predicate, oov, oov_strict = 1.0, 0.0, 0.0
    # "What did X say / how did X respond?": X must be the one speaking, not just mentioned.
    wrong_speaker = False
    if info.kind == "quote" and info.entities:
        speaker_keys = {k for ks in info.entity_keys[:1] for k in ks if not k.startswith("@")}
        said = ctx.sayers(index) | (ctx.sayers(index - 1) if index > 0 else set())
        wrong_speaker = bool(speaker_keys) and bool(said) and not (speaker_keys & said)
    return Evidence(
        index=index,
        sentence=s,
        retrieval=retrieval,
        dense=dense,
        coverage=cover,
        own_coverage=own,
        predicate=predicate,
        oov=oov,
        oov_strict=oov_strict,
        entities_found=names,
        type_ok=type_ok,
        score=0.0,
        anchor_missing=anchor_missing,
        quoted=quoted,
        exact_quote=exact_quote,
        wrong_speaker=wrong_speaker,
        other_holder=bool(other_holder(info.text, s.text)),
        n_missing=len(missing),
        missing_weight=max((ctx.weight(t) for t in missing), default=0.0) / ctx.default_idf,
    )
