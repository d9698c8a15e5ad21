"""The learned decisions of the extractive answerer: which candidate sentence holds the answer,
which of its names or figures is the direct answer, and how likely the answer is to be right
(answer confidently, say "probably", or refuse).

Three small linear models (``model.LinearModel``) read the features the pipeline already
computes (``features``, ``spans``); they are fitted on public data by ``train/decision`` (``make
decision-model``) and shipped as ``assistant/models/decision.json`` with a card beside it.
"""

from assistant.answering.decision.features import (
    ANSWER_FEATURES,
    CANDIDATE_FEATURES,
    answer_features,
    candidate_features,
)
from assistant.answering.decision.model import Band, DecisionModel, LinearModel, load_decision_model
from assistant.answering.decision.spans import SPAN_FEATURES, SpanOption, span_features

__all__ = [
    "ANSWER_FEATURES",
    "CANDIDATE_FEATURES",
    "SPAN_FEATURES",
    "Band",
    "DecisionModel",
    "LinearModel",
    "SpanOption",
    "answer_features",
    "candidate_features",
    "load_decision_model",
    "span_features",
]
