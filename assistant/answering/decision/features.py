"""Feature vectors of the two decisions, from what retrieval and the support checks computed.

Inputs: the parsed question (``analysis.Question``) and its candidates (``support.Evidence``,
each with its retrieval ``rank``). Outputs: one row of floats per candidate
(``CANDIDATE_FEATURES``) and one row per answer (``ANSWER_FEATURES``). The names are stored
with the fitted weights, so a model and the code that feeds it cannot drift apart silently
(``model.LinearModel`` checks them on load).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

from assistant.answering.decision.alignment import ALIGNMENT_FEATURES, alignment_features
from assistant.answering.decision.spans import SPAN_FEATURES, SpanOption, span_features
from assistant.answering.support import Evidence
from assistant.core.types import QuestionKind, Reason, Sentence
from assistant.language.question import Question
from assistant.language.text import content_terms, stem, words

CANDIDATE_FEATURES: tuple[str, ...] = (
    "retrieval",  # fused BM25 + dense retrieval score
    "retrieval_gap",  # below the best candidate's retrieval score
    "rank_inv",  # 1 / (1 + retrieval rank)
    "dense",  # MiniLM cosine to the question
    "dense_gap",  # below the best candidate's cosine
    "coverage",  # IDF-weighted share of question terms in the sentence and its neighbours
    "own_coverage",  # ... in the sentence alone
    "predicate",  # coverage of what the question says about its names
    "oov",  # share of question words the documents never use
    "oov_strict",  # ... not even paraphrased in this sentence
    "names_missing",  # share of the question's names absent from the window
    "type_missing",  # the question asks for a kind of fact (a date, a person ...) the sentence lacks
    "anchor_missing",  # the question's rarest document word is not in the window
    "heading",
    "quoted",  # a what-did-X-say question and a quote
    "exact_quote",  # holds a phrase the question quotes
    "wrong_speaker",  # someone else speaks
    "other_holder",  # gives the asked noun to another named holder
    "log_words",  # log of the sentence's length in words
    "n_missing",  # question words (or a synonym) absent from the sentence and its neighbours
    "missing_weight",  # the rarest of them: its IDF over the largest possible
    *ALIGNMENT_FEATURES,  # the sentence against the question, word by word
    # for a question asking for a person, place, date or figure: the sentence's options of that
    # kind (``spans``), and how close the nearest stands to the question's words
    "n_options",  # log(1 + options)
    "option_near",  # log(1 + words from the nearest option to a question word); log(51) with none
    "option_window",  # the most question words within three words of an option
    "option_after_question_word",  # an option comes right after a word of the question ("to" London)
)

_KINDS: tuple[QuestionKind, ...] = tuple(QuestionKind)

ANSWER_FEATURES: tuple[str, ...] = (
    "p_best",  # the chosen candidate's P(holds the answer)
    "p_second",  # the runner-up's
    "p_others",  # the sum of the rest of the top five
    "best_rank_inv",  # 1 / (1 + the chosen sentence's retrieval rank)
    "dense",
    "own_coverage",
    "predicate",
    "oov_strict",
    "names_missing",
    "type_missing",
    "other_holder",
    "anchor_missing",
    "coverage",
    "retrieval",
    "n_missing",
    "missing_weight",
    "has_short",  # a direct answer (a figure, a name, yes/no) was extracted
    "short_in_question",  # share of the direct answer's words the question already says
    "short_words",  # log(1 + words of the direct answer)
    "short_gap",  # words between the direct answer and the nearest question word, over the sentence's
    "n_options",  # log(1 + names/dates/figures of the asked kind in the sentence): how many to choose from
    "no_typed_answer",  # asked for a name, place, date or figure, and the sentence gives none
    "counts_other",  # asked how many X, and the nearest count counts something else
    "n_terms",  # log(1 + question content terms)
    "n_names",  # names in the question
    "span_p",  # the span model's P for the direct answer chosen among the sentence's options (0: none)
    "span_margin",  # ... above the runner-up's (1 with a single option)
    *ALIGNMENT_FEATURES,  # the chosen sentence against the question, word by word
    *(f"kind_{k.value}" for k in _KINDS),
)


def candidate_features(
    info: Question,
    cands: Sequence[Evidence],
    vocabulary: Collection[str] = frozenset(),
    options: Callable[[Sentence], list[SpanOption]] | None = None,
) -> list[list[float]]:
    """One row per candidate, in ``CANDIDATE_FEATURES`` order (``info``: the question;
    ``vocabulary``: the documents' content terms; ``options``: a sentence's possible direct
    answers, none when not given)."""
    if not cands:
        return []
    top_retrieval = max(c.retrieval for c in cands)
    top_dense = max(c.dense for c in cands)
    rows = []
    for c in cands:
        n_words = max(1, len(c.sentence.text.split()))
        rows.append(
            [
                c.retrieval,
                top_retrieval - c.retrieval,
                1.0 / (1 + c.rank),
                c.dense,
                top_dense - c.dense,
                c.coverage,
                c.own_coverage,
                c.predicate,
                c.oov,
                c.oov_strict,
                1.0 - c.entities_found,
                float(bool(info.expected) and not c.type_ok),
                float(c.anchor_missing),
                float(c.sentence.is_heading),
                float(c.quoted),
                float(c.exact_quote),
                float(c.wrong_speaker),
                float(c.other_holder),
                math.log(n_words),
                float(c.n_missing),
                c.missing_weight,
                *alignment_features(info, c.sentence.text, vocabulary),
                *_option_features(info, c.sentence, options(c.sentence) if options else []),
            ]
        )
    return rows


def _option_features(info: Question, sentence: Sentence, options: list[SpanOption]) -> list[float]:
    """``n_options`` ... ``option_after_question_word`` of a candidate sentence."""
    if not options:
        return [0.0, math.log(51), 0.0, 0.0]
    rows = [dict(zip(SPAN_FEATURES, r, strict=True)) for r in span_features(info, sentence, options)]
    return [
        math.log1p(len(options)),
        min(r["near_words"] for r in rows),
        max(r["window3"] for r in rows),
        max(r["prev_in_question"] for r in rows),
    ]


def short_gap(info: Question, sentence: str, short: str) -> float:
    """How far (in words, over the sentence's length) the direct answer stands from the nearest
    question word in the sentence: an answer right next to what the question says is more often
    the one asked for. 1.0 when either is not found."""
    toks = words(sentence)
    wanted = words(short)
    terms = set(info.terms)
    near = [i for i, w in enumerate(toks) if w in terms or stem(w) in terms]
    at = next((i for i in range(len(toks) - len(wanted) + 1) if toks[i : i + len(wanted)] == wanted), -1)
    if not toks or not wanted or not near or at < 0:
        return 1.0
    return min(min(abs(i - at), abs(i - (at + len(wanted) - 1))) for i in near) / len(toks)


def answer_features(
    info: Question,
    best: Evidence,
    ranked: Sequence[Evidence],
    short: str,
    options: int = 0,
    gap: Reason | None = None,
    vocabulary: Collection[str] = frozenset(),
    span_p: Sequence[float] = (),
) -> list[float]:
    """The row of ``ANSWER_FEATURES`` for answering ``info`` from ``best`` with the direct answer
    ``short`` ("" when there is none), chosen among ``options`` candidates of the asked kind;
    ``gap``: why no direct answer of the asked kind was found (``Reason.WRONG_KIND`` or
    ``Reason.COUNTS_OTHER``); ``vocabulary``: the documents' content terms; ``span_p``: the span
    model's P of each option the direct answer was chosen from; ``ranked``: every
    candidate, most likely first (their ``score`` is P(holds the answer))."""
    others = [c.score for c in ranked if c is not best]
    short_terms = content_terms(short)
    asked = set(content_terms(info.text))
    echoed = sum(t in asked for t in short_terms) / len(short_terms) if short_terms else 0.0
    return [
        best.score,
        others[0] if others else 0.0,
        sum(others[1:4]),
        1.0 / (1 + best.rank),
        best.dense,
        best.own_coverage,
        best.predicate,
        best.oov_strict,
        1.0 - best.entities_found,
        float(bool(info.expected) and not best.type_ok),
        float(best.other_holder),
        float(best.anchor_missing),
        best.coverage,
        best.retrieval,
        float(best.n_missing),
        best.missing_weight,
        float(bool(short)),
        echoed,
        math.log1p(len(short.split())),
        short_gap(info, best.sentence.text, short),
        math.log1p(options),
        float(gap == Reason.WRONG_KIND),
        float(gap == Reason.COUNTS_OTHER),
        math.log1p(len(info.terms)),
        float(len(info.entities)),
        max(span_p, default=0.0),
        (sorted(span_p)[-1] - sorted(span_p)[-2]) if len(span_p) > 1 else float(len(span_p)),
        *alignment_features(info, best.sentence.text, vocabulary),
        *(float(info.kind == k) for k in _KINDS),
    ]
