"""A fixed, hand-written decision model for the answerer's stage tests.

Why not the shipped model: its weights change with every ``make decision-model``; the stage tests
check the rules and the plumbing around the decision (reason codes, bands, citations), which must
not move when the model is refitted. The shipped model is exercised end to end over real text by
``tests/test_answer_general.py`` and by the eval floors.
"""

from __future__ import annotations

from assistant.answering.decision import ANSWER_FEATURES, CANDIDATE_FEATURES, DecisionModel, LinearModel
from assistant.answering.decision.model import bootstrap_model

_CANDIDATE = {"coverage": 3.0, "own_coverage": 2.0, "dense": 2.0, "names_missing": -3.0, "type_missing": -2.0,
              "heading": -1.0, "rank_inv": 1.0, "other_holder": -2.0}
_ANSWER = {"coverage": 3.0, "predicate": 2.0, "names_missing": -3.0, "no_typed_answer": -4.0,
           "counts_other": -3.0, "other_holder": -3.0, "has_short": 0.5}


def _linear(names: tuple[str, ...], weights: dict[str, float], bias: float, link: str) -> LinearModel:
    n = len(names)
    return LinearModel(names, (0.0,) * n, (1.0,) * n, tuple(weights.get(f, 0.0) for f in names), bias, link)


def fixed_model() -> DecisionModel:
    """Candidates compete on coverage, meaning and names; an answer is likely when the question's
    terms and names are covered and a direct answer of the asked kind was found."""
    return DecisionModel(
        candidate=_linear(CANDIDATE_FEATURES, _CANDIDATE, 0.0, "softmax"),
        span=bootstrap_model().span,  # the hand-set order the span model replaced
        answer=_linear(ANSWER_FEATURES, _ANSWER, -2.0, "logistic"),
        answer_threshold=0.3,
        confident_threshold=0.7,
        cite_threshold=0.3,
        version="tests",
    )
