"""Fitting the decision model (``train.decision``) on small synthetic records: the weights, the
per-source weighting, the thresholds and the card, without any index."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.decision import ANSWER_FEATURES, CANDIDATE_FEATURES
from train.decision.card import write_card
from train.decision.collect import Record
from train.decision.fit import accuracy_at, build_model, fit_answers, fit_candidates, fit_linear, weights


def _records(n: int = 240, seed: int = 0) -> list[Record]:
    """Questions whose first candidate feature tells the answer sentence, and whose first answer
    feature tells a right answer (noisily); half answerable; two sources, several groups."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        answerable = bool(i % 2)
        labels = [0] * 6
        if answerable:
            labels[int(rng.integers(0, 6))] = 1
        cands = [[float(lab) + rng.normal(0, 0.5)] + [float(rng.normal())] * (len(CANDIDATE_FEATURES) - 1)
                 for lab in labels]
        right = answerable and bool(rng.random() < 0.8)
        feats = [float(right) + rng.normal(0, 0.6)] + [float(rng.normal())] * (len(ANSWER_FEATURES) - 1)
        group = f"squad:a{i % 4}" if i % 3 else f"eval:{('news', 'gold')[i % 2]}"
        out.append(Record(f"q{i}", group, answerable, "what", "answered", cands, labels, feats, right))
    return out


def test_fit_linear_finds_the_informative_feature() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] + rng.normal(0, 0.3, 400) > 0).astype(int)
    fitted = fit_linear(x, y, [f"g{i % 5}" for i in range(400)], ("a", "b", "c"))
    w = np.abs(fitted.model.weights)
    assert w[1] > 3 * max(w[0], w[2])
    assert ((fitted.oof > 0.5) == y).mean() > 0.85  # out of fold, still right


def test_each_source_weighs_half() -> None:
    w = weights(["eval:news", "squad:a", "squad:b", "squad:c"])
    assert w[0] == pytest.approx(w[1:].sum())


def test_threshold_and_card_from_records() -> None:
    records = _records()
    cands, answers = fit_candidates(records), fit_answers(records)
    model = build_model(cands, answers, records, "test")
    assert 0.05 <= model.answer_threshold <= model.confident_threshold <= 0.99
    assert accuracy_at(records, answers.oof, model.answer_threshold) >= accuracy_at(records, answers.oof, 0.0)
    card = write_card(model, records, cands.oof, answers.oof)
    assert "version `test`" in card and "| `p_best` |" in card and "Reliability" in card
