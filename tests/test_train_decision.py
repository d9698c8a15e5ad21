"""Fitting the decision model (``train.decision``) on small synthetic records: the weights, the
per-source weighting, the thresholds and the card, without any index."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.decision import ANSWER_FEATURES, CANDIDATE_FEATURES, SPAN_FEATURES
from train.decision.card import write_card
from train.decision.collect import Record
from train.decision.fit import (
    accuracy_at,
    answer_weights,
    build_model,
    fit_answers,
    fit_candidates,
    fit_linear,
    fit_spans,
    weights,
)


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
        cands = [
            [float(lab) + rng.normal(0, 0.5)] + [float(rng.normal())] * (len(CANDIDATE_FEATURES) - 1)
            for lab in labels
        ]
        right = answerable and bool(rng.random() < 0.8)
        feats = [float(right) + rng.normal(0, 0.6)] + [float(rng.normal())] * (len(ANSWER_FEATURES) - 1)
        group = f"squad:a{i % 4}" if i % 3 else f"eval:{('news', 'gold')[i % 2]}"
        # three options; the right one (when answerable) stands next to the question's words
        span_labels = [int(answerable and j == i % 3) for j in range(3)]
        spans = [
            [-2.0 * lab + rng.normal(0, 0.5)] + [float(rng.normal())] * (len(SPAN_FEATURES) - 1)
            for lab in span_labels
        ]
        out.append(
            Record(
                f"q{i}",
                group,
                answerable,
                "what",
                "answered",
                cands,
                labels,
                feats,
                right,
                spans,
                span_labels,
            )
        )
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
    cands, spans, answers = fit_candidates(records), fit_spans(records), fit_answers(records)
    model = build_model(cands, spans, answers, records, "test")
    assert 0.05 <= model.answer_threshold <= model.confident_threshold <= 0.99
    assert accuracy_at(records, answers.oof, model.answer_threshold) >= accuracy_at(records, answers.oof, 0.0)
    card = write_card(model, records, cands.oof, spans.oof, answers.oof)
    assert "version `test`" in card and "| `p_best` |" in card and "Reliability" in card
    assert "| `near_words` |" in card


def test_span_model_learns_which_option_answers() -> None:
    records = _records()
    spans = fit_spans(records)
    assert spans.model.link == "softmax" and spans.model.names == SPAN_FEATURES
    assert spans.model.weights[0] < -3 * max(abs(w) for w in spans.model.weights[1:])  # nearer is likelier
    at, hits, n = 0, 0, 0
    for r in records:
        p = spans.oof[at : at + len(r.span_labels)]
        at += len(r.span_labels)
        if any(r.span_labels):
            n += 1
            hits += r.span_labels[int(np.argmax(p))]
    assert hits / n > 0.9  # out of fold


def test_answer_weights_give_squad_the_product_sets_share_of_unanswerable_questions() -> None:
    records = _records()  # half unanswerable everywhere
    records = [
        r for r in records if r.answerable or r.group.startswith("squad") or int(r.item_id[1:]) % 4 == 1
    ]
    w, base = answer_weights(records), weights([r.group for r in records])
    squad = np.asarray([r.group.startswith("squad") for r in records])
    unanswerable = np.asarray([not r.answerable for r in records])
    product_share = base[~squad & unanswerable].sum() / base[~squad].sum()
    assert product_share < 0.4
    assert w[squad & unanswerable].sum() / w[squad].sum() == pytest.approx(product_share)
    assert w[squad].sum() == pytest.approx(base[squad].sum())  # each source still weighs half
    assert np.array_equal(w[~squad], base[~squad])


def test_compare_fits_trees_with_the_same_folds_and_reports_both_families(tmp_path, capsys) -> None:
    from train.decision.collect import write
    from train.decision.compare import main, top1, tree_candidates_oof

    records = _records()
    trees_p = tree_candidates_oof(records)
    assert len(trees_p) == sum(len(r.candidate_labels) for r in records)
    assert top1(records, trees_p, "squad") > 0.6  # the informative feature, out of fold (chance: 1/6)
    for i in (1, 3):
        write(records, tmp_path / f"phase{i}.jsonl")
    assert main(["--work", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "candidate top-1, linear (conditional logit)",
        "candidate top-1, trees",
        "P(right), linear",
        "P(right), trees",
    ]
    assert all("product" in line and "squad" in line for line in lines)


def test_compare_says_what_to_run_without_records(tmp_path, capsys) -> None:
    from train.decision.compare import main

    assert main(["--work", str(tmp_path)]) == 2
    assert "make decision-model" in capsys.readouterr().err
