"""The decision model (``assistant.answering.decision``): its file format, its checks, its bands, and the
feature rows it reads, over fakes (no index, no embedder)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.decision import (
    ANSWER_FEATURES,
    CANDIDATE_FEATURES,
    SPAN_FEATURES,
    Band,
    LinearModel,
    SpanOption,
    load_decision_model,
)
from assistant.answering.decision.features import answer_features, candidate_features
from assistant.answering.decision.model import DecisionModel, DecisionModelError, bootstrap_model
from assistant.answering.decision.spans import span_features
from assistant.answering.support import Evidence
from assistant.core.types import Entity, Sentence
from assistant.language.figures import quantities
from assistant.language.question import analyze


def _evidence(text: str, rank: int, **kw: float | bool) -> Evidence:
    s = Sentence("d.txt", rank, text, 0, len(text))
    base: dict[str, float | bool] = dict(
        retrieval=0.5,
        dense=0.4,
        coverage=0.5,
        own_coverage=0.5,
        predicate=0.5,
        oov=0.0,
        entities_found=1.0,
        type_ok=True,
        score=0.0,
    )
    base.update(kw)
    return Evidence(index=rank, sentence=s, rank=rank, **base)  # type: ignore[arg-type]


def test_linear_model_is_a_standardised_logistic_regression() -> None:
    m = LinearModel(("a", "b"), (1.0, 0.0), (2.0, 1.0), (1.0, -1.0), 0.5)
    p = m.predict([[3.0, 1.0], [1.0, 0.0]])
    z = np.array([(3 - 1) / 2 * 1 - 1 + 0.5, 0.5])
    assert p == pytest.approx(1 / (1 + np.exp(-z)))
    assert m.predict([]).shape == (0,)


def test_a_softmax_model_makes_the_candidates_compete() -> None:
    m = LinearModel(("a",), (0.0,), (1.0,), (1.0,), 5.0, "softmax")
    p = m.predict([[0.0], [np.log(3.0)]])
    assert p == pytest.approx([0.25, 0.75])  # the bias cancels out


def test_shipped_model_loads_and_matches_the_features() -> None:
    model = load_decision_model()
    assert model.candidate.names == CANDIDATE_FEATURES
    assert model.span.names == SPAN_FEATURES and model.span.link == "softmax"
    assert model.answer.names == ANSWER_FEATURES
    assert 0.0 < model.answer_threshold <= model.confident_threshold <= 1.0
    assert model.version


def test_model_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model = bootstrap_model()
    path.write_text(json.dumps(model.to_json()))
    assert load_decision_model(path) == model


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no decision model at"),
        ("{not json", "is unreadable"),
        ('{"format": 99}', "is not format 2"),
        ('{"format": 2, "candidate": {}}', "is incomplete"),
    ],
)
def test_bad_model_files_say_how_to_rebuild(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "m.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DecisionModelError, match=message) as err:
        load_decision_model(path)
    assert "make decision-model" in str(err.value)


def test_a_model_fitted_for_other_features_is_refused(tmp_path: Path) -> None:
    raw = bootstrap_model().to_json()
    cand = dict(raw["candidate"])  # type: ignore[arg-type]
    cand["names"] = [*CANDIDATE_FEATURES[:-1], "renamed"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps({**raw, "candidate": cand}))
    last = CANDIDATE_FEATURES[-1]
    with pytest.raises(DecisionModelError, match=rf"missing \['{last}'\], extra \['renamed'\]"):
        load_decision_model(path)


def test_bands_follow_the_two_thresholds() -> None:
    model = replace(bootstrap_model(), answer_threshold=0.3, confident_threshold=0.7)
    assert model.band(0.1) == Band.UNSURE
    assert model.band(0.3) == Band.PROBABLE
    assert model.band(0.69) == Band.PROBABLE
    assert model.band(0.7) == Band.CONFIDENT


def test_feature_rows_have_one_value_per_name() -> None:
    info = analyze("When did the ferry named Blue Heron sink?")
    cands = [
        _evidence("The ferry sank in 1998 off the coast.", 0, type_ok=True),
        _evidence("The Blue Heron was a ferry.", 1, type_ok=False, dense=0.7),
    ]
    rows = candidate_features(info, cands)
    assert [len(r) for r in rows] == [len(CANDIDATE_FEATURES)] * 2
    row = dict(zip(CANDIDATE_FEATURES, rows[1], strict=True))
    assert row["type_missing"] == 1.0 and row["rank_inv"] == 0.5 and row["dense_gap"] == 0.0
    assert dict(zip(CANDIDATE_FEATURES, rows[0], strict=True))["dense_gap"] == pytest.approx(0.3)
    scored = [replace(c, score=p) for c, p in zip(cands, (0.8, 0.1), strict=True)]
    feats = dict(zip(ANSWER_FEATURES, answer_features(info, scored[0], scored, "1998"), strict=True))
    assert feats["p_best"] == 0.8 and feats["p_second"] == 0.1 and feats["has_short"] == 1.0
    assert feats["kind_when"] == 1.0 and sum(v for k, v in feats.items() if k.startswith("kind_")) == 1.0


def test_no_candidates_give_no_rows() -> None:
    assert candidate_features(analyze("Who?"), []) == []


def test_model_type_is_frozen() -> None:
    with pytest.raises(AttributeError):
        bootstrap_model().answer_threshold = 0.1  # type: ignore[misc]
    assert isinstance(bootstrap_model(), DecisionModel)


def _span_rows(question: str, text: str, options: list[SpanOption]) -> list[dict[str, float]]:
    rows = span_features(analyze(question), Sentence("d.txt", 0, text, 0, len(text)), options)
    assert [len(r) for r in rows] == [len(SPAN_FEATURES)] * len(options)
    return [dict(zip(SPAN_FEATURES, r, strict=True)) for r in rows]


def test_span_features_say_where_an_option_stands_among_the_question_words() -> None:
    text = "The office opens in Lyon this year and will move to Turin in 2027."
    options = [
        SpanOption.of_entity(Entity(n, "GPE", text.index(n), text.index(n) + len(n)))
        for n in ("Lyon", "Turin")
    ]
    lyon, turin = _span_rows("Where will the office move to?", text, options)
    assert turin["prev_in_question"] == 1.0 and lyon["prev_in_question"] == 0.0  # "to" Turin; "in" Lyon
    assert turin["near_words"] < lyon["near_words"] and turin["window3"] >= 1.0
    assert lyon["first"] == 1.0 and turin["last"] == 1.0 and lyon["place"] == turin["place"] == 1.0
    assert 0.0 < lyon["rel_pos"] < turin["rel_pos"] < 1.0


def test_span_features_of_figures_mark_money_and_the_counted_noun() -> None:
    text = "The fund paid 40 million euros to train 3,000 nurses."
    sentence = Sentence("d.txt", 0, text, 0, len(text))
    figs = quantities(sentence)
    info = analyze("How many nurses did the fund train?")
    rows = [
        dict(zip(SPAN_FEATURES, r, strict=True))
        for r in span_features(info, sentence, [SpanOption.of_figure(f, info.head_noun, text) for f in figs])
    ]
    by_text = {f.text: r for f, r in zip(figs, rows, strict=True)}
    money = next(r for t, r in by_text.items() if "40" in t)
    count = next(r for t, r in by_text.items() if "3,000" in t)
    assert money["money"] == 1.0 and count["unit_head"] == 1.0 and money["unit_head"] == 0.0


def test_no_options_give_no_span_rows() -> None:
    assert span_features(analyze("Who?"), Sentence("d.txt", 0, "x", 0, 1), []) == []


def test_alignment_features_count_the_word_that_differs() -> None:
    from assistant.answering.decision.alignment import ALIGNMENT_FEATURES, alignment_features

    def row(question: str, sentence: str) -> dict[str, float]:
        return dict(zip(ALIGNMENT_FEATURES, alignment_features(analyze(question), sentence), strict=True))

    text = "The northern valleys were flooded first because the river rose in March 1998."
    same = row("Why were the northern valleys flooded first?", text)
    assert same == {
        **same,
        "swapped": 0.0,
        "negation_differs": 0.0,
        "number_missing": 0.0,
        "sentence_missing": 0.0,
    }
    assert same["bigrams"] == 1.0
    assert row("Why were the southern valleys flooded first?", text)["swapped"] == 1.0
    assert row("Why weren't the northern valleys flooded first?", text)["negation_differs"] == 1.0
    assert row("Why were the valleys flooded in 2004?", text)["number_missing"] == 1.0
    assert row("Why were the valleys flooded in 1998?", text)["number_missing"] == 0.0
    assert row("Why did the dams of the valleys break?", text)["sentence_missing"] >= 2.0
    # the sentence says the opposite of a question word (WordNet antonym)
    assert row("Why were the northern valleys flooded last?", text)["antonym"] == 1.0
    assert same["antonym"] == 0.0
