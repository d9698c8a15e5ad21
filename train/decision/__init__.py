"""Fitting the answerer's decision model (``assistant.answering.decision``) from public data.

``python -m train.decision`` (``make decision-model``): build the training questions
(``data``), run the answerer over them and record every candidate's and answer's features
(``collect``), fit the two logistic models and choose the thresholds on held-out articles
(``fit``), write ``assistant/models/decision.json`` and its card (``card``).
"""
