"""The learned decisions of the extractive answerer: which candidate sentence holds the answer,
and how likely the answer is to be right (answer confidently, say "probably", or refuse).

Two small logistic models (``model.LinearModel``) read the features the pipeline already
computes (``features``); they are fitted on public data by ``train/decision`` (``make
decision-model``) and shipped as ``assistant/models/decision.json`` with a card beside it.
"""

from assistant.answering.decision.features import (
    ANSWER_FEATURES,
    CANDIDATE_FEATURES,
    answer_features,
    candidate_features,
)
from assistant.answering.decision.model import Band, DecisionModel, LinearModel, load_decision_model

__all__ = [
    "ANSWER_FEATURES",
    "CANDIDATE_FEATURES",
    "Band",
    "DecisionModel",
    "LinearModel",
    "answer_features",
    "candidate_features",
    "load_decision_model",
]
