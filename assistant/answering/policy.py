"""Every threshold and weight of the extractive answerer, in one frozen ``AnswerPolicy``.

Which candidate answers, whether to answer and how sure the answer is are learned
(``assistant.answering.decision``, fitted by ``make decision-model``); what is left here are the numbers
of the rules the data cannot learn (premises, arithmetic, the short answer's form) and of how
the features are defined. Why one object: a number should be found in one place, with a word
on where it came from.

"gold" is eval/data/gold.jsonl, "dev" the dev splits of eval/data/* (``python -m eval
--suite dev --split dev``); test splits were never used to set any of these. "hand-set" means
chosen while writing the rule on gold-set examples and not re-measured since.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerPolicy:
    """The hand-set numbers of the rules in ``assistant.answering.answer``, ``.premises``, ``.arithmetic``
    and ``.support``; the note after each says how it was set."""

    # -- candidates (answer.py); which one answers and whether to answer: assistant.answering.decision ----
    candidates: int = 12  # sentences scored per question (at least top_k); recall in the decision card
    # a refusal shows "related" sentences only this close in meaning; gold (dev): best cosine of
    # off_topic questions 0.08-0.38 (6 of 7 below 0.3), of on-topic not_in_article ones 0.39-0.64
    related_min_dense: float = 0.37
    same_noun_similarity: float = 0.5  # MiniLM cosine at which two nouns count the same thing
    # (synonym pairs scored > 0.6 on the gold set's counted nouns, unrelated ones < 0.4)
    premise_predicate: float = 0.6  # a substituted-name premise needs this predicate coverage ...; gold
    premise_dense: float = 0.35  # ... and this cosine; hand-set on the gold set's false premises
    short_sentence_words: int = 7  # a best sentence shorter than this is cited with the next one; gold

    # -- figures for arithmetic (answer._figure_candidates): cost of a figure for a name -------
    figure_before_factor: int = 3  # a figure before the name costs 3x its distance ...; hand-set, gold
    figure_before_offset: int = 40  # ... plus this (figures usually follow what they measure)
    figure_rank_cost: int = 30  # per rank of the candidate sentence; hand-set, gold
    figure_kind_cost: int = 150  # money asked, count found (or the reverse); hand-set, gold

    # -- features of one sentence (support.score_evidence, support.SentenceContext.coverage) -----
    neighbour_hit: float = 0.6  # a term found only in a neighbouring sentence counts this much; gold
    w_synonym: float = 0.8  # a WordNet synonym of a question word counts nearly as the word; dev
    type_next_own: float = 0.5  # a figure/date in the next sentence counts when own coverage > this; gold

