"""Unit tests of the eval metrics on hand-made gold items and outcomes (no model, no index)."""

from __future__ import annotations

import pytest

from eval import metrics as m
from eval.dataset import Evidence, GoldItem
from eval.matching import contains, normalise
from eval.records import Outcome, SentenceRef
from eval.scoring import score, score_by_category

DOC = "doc.txt"
S_FACT = SentenceRef(DOC, 2, "The old bridge has 12 stone arches.")
S_FACT_TOO = SentenceRef(DOC, 4, "Its 12 arches were rebuilt in 1950.")
S_OTHER = SentenceRef(DOC, 9, "The bridge crosses the river in Lyon.")


def gold(must: tuple[tuple[str, ...], ...] = (("12", "twelve"),), evidence: tuple[int, ...] = (2,),
         answerable: bool = True, category: str = "numeric", item_id: str = "q1") -> GoldItem:
    return GoldItem(id=item_id, category=category, question="How many arches?", answerable=answerable,
                    reference="12.", must=must if answerable else (),
                    evidence=tuple(Evidence(DOC, 0, 1, "x", (s,)) for s in evidence) if answerable else ())


def outcome(text: str = "It has 12 arches. [1]", refused: bool = False,
            citations: tuple[SentenceRef, ...] = (S_FACT,), retrieved: tuple[SentenceRef, ...] = (),
            latency_ms: float = 10.0, error: str = "", item_id: str = "q1") -> Outcome:
    return Outcome(item_id, text=text, refused=refused, citations=citations, retrieved=retrieved,
                   latency_ms=latency_ms, error=error)


# -- matching ------------------------------------------------------------------------------
def test_normalise_folds_case_quotes_dashes_and_spaces() -> None:
    assert normalise("  “Present  in LAND” – sea\u00a0") == '"present in land" - sea'


@pytest.mark.parametrize(("text", "alt", "expected"), [
    ("It has 12 arches", "12", True),
    ("112 arches", "12", False),          # no match inside a longer number
    ("41,100 euros", "1,100", False),
    ("it will not enter", "no", False),      # "no" is not a prefix match of "not"
    ("No, it will not.", "no", True),
    ("the “line of defense”", '"line of defense"', True),
    ("about 45% more", "45%", True),
])
def test_contains_matches_on_word_boundaries(text: str, alt: str, expected: bool) -> None:
    assert contains(text, alt) is expected


# -- correctness -----------------------------------------------------------------------------
def test_correct_answer_states_every_fact() -> None:
    item = gold(must=(("stone",), ("iron",), ("wood",)))
    assert m.answer_correct(item, outcome("Stone, iron and wood."))
    assert not m.answer_correct(item, outcome("Stone and iron."))
    assert m.fact_recall(item, outcome("Stone and iron.")) == pytest.approx(2 / 3)


def test_any_alternative_satisfies_a_fact() -> None:
    assert m.answer_correct(gold(), outcome("Twelve arches."))


def test_refused_answer_is_never_correct_even_if_it_mentions_the_fact() -> None:
    o = outcome("The documents do not say; 12 is mentioned nearby.", refused=True, citations=())
    assert not m.answer_correct(gold(), o)
    assert m.fact_recall(gold(), o) == 0.0


def test_unanswerable_item_is_correct_only_when_refused() -> None:
    item = gold(answerable=False, category="not_in_article")
    assert m.answer_correct(item, outcome("I can't tell.", refused=True, citations=()))
    assert not m.answer_correct(item, outcome("About 10,000 visitors. [1]"))
    assert m.fact_recall(item, outcome()) is None


def test_crashed_backend_is_never_correct_nor_a_correct_refusal() -> None:
    item = gold(answerable=False, category="off_topic")
    crashed = outcome("", refused=True, citations=(), error="ConnectionError: down")
    assert not m.answer_correct(item, crashed)
    assert not m.refusal_correct(item, crashed)


# -- refusals --------------------------------------------------------------------------------
def test_refusal_on_answerable_counts_as_false_refusal() -> None:
    ans, unans = gold(item_id="a"), gold(answerable=False, category="off_topic", item_id="u")
    pairs = [(ans, outcome(refused=True, citations=())), (unans, outcome(refused=True, citations=()))]
    assert m.false_refusal_rate(pairs) == 1.0
    assert m.false_answer_rate(pairs) == 0.0
    assert not m.refusal_correct(*pairs[0])
    assert m.refusal_correct(*pairs[1])


def test_answering_an_unanswerable_question_counts_as_false_answer() -> None:
    unans = gold(answerable=False, category="not_in_article")
    assert m.false_answer_rate([(unans, outcome())]) == 1.0
    assert m.false_refusal_rate([(unans, outcome())]) is None  # undefined, not 0


# -- citations -------------------------------------------------------------------------------
def test_citation_of_the_gold_sentence_gives_full_recall_and_precision() -> None:
    pairs = [(gold(), outcome(citations=(S_FACT,)))]
    assert m.citation_recall(pairs) == 1.0
    assert m.citation_precision(pairs) == 1.0


def test_a_wrong_extra_citation_lowers_precision_not_recall() -> None:
    pairs = [(gold(), outcome(citations=(S_FACT, S_OTHER)))]
    assert m.citation_recall(pairs) == 1.0
    assert m.citation_precision(pairs) == 0.5


def test_a_missing_citation_lowers_recall() -> None:
    item = gold(must=(("12",), ("Lyon",)), evidence=(2, 9))
    assert m.citation_recall([(item, outcome("12, in Lyon. [1]", citations=(S_FACT,)))]) == 0.0
    assert m.citation_recall([(item, outcome("12, in Lyon. [1][2]", citations=(S_FACT, S_OTHER)))]) == 1.0


def test_non_gold_citation_that_states_the_fact_counts_as_support() -> None:
    # ALCE judges support by content: another sentence stating the fact is a valid source.
    pairs = [(gold(evidence=(2,)), outcome(citations=(S_FACT_TOO,)))]
    assert m.citation_recall(pairs) == 1.0
    assert m.citation_precision(pairs) == 1.0


def test_derived_fact_is_supported_by_citing_all_gold_evidence() -> None:
    # A difference (7,000) appears in no sentence: citing the gold evidence is what supports it.
    item = gold(must=(("7,000",),), evidence=(2,), category="arithmetic")
    assert m.citation_supports(item, outcome("7,000 more. [1]", citations=(S_FACT,)))
    assert not m.citation_supports(item, outcome("7,000 more. [1]", citations=(S_OTHER,)))


def test_uncited_answer_has_no_citation_support_and_refusals_are_excluded() -> None:
    item = gold()
    assert m.citation_recall([(item, outcome(citations=()))]) == 0.0
    assert m.citation_recall([(item, outcome(refused=True, citations=()))]) is None
    assert m.citation_precision([(item, outcome(citations=()))]) is None


def test_citation_precision_is_micro_averaged_over_citations() -> None:
    a, b = gold(item_id="a"), gold(item_id="b")
    pairs = [(a, outcome(citations=(S_FACT,))), (b, outcome(citations=(S_OTHER, S_OTHER, S_FACT)))]
    assert m.citation_precision(pairs) == pytest.approx(2 / 4)


# -- retrieval -------------------------------------------------------------------------------
def test_recall_at_k_and_reciprocal_rank() -> None:
    item = gold(evidence=(2, 4))
    o = outcome(retrieved=(S_OTHER, S_FACT, SentenceRef(DOC, 7), S_FACT_TOO))
    assert m.recall_at_k(item, o, 2) == 0.5
    assert m.recall_at_k(item, o, 4) == 1.0
    assert m.reciprocal_rank(item, o) == 0.5
    assert m.reciprocal_rank(item, outcome(retrieved=(S_OTHER,))) == 0.0
    assert m.recall_at_k(gold(answerable=False, category="off_topic"), o, 3) is None


# -- latency and aggregation -----------------------------------------------------------------
def test_percentile_interpolates_linearly() -> None:
    assert m.percentile([10, 20, 30, 40], 50) == 25
    assert m.percentile([5], 95) == 5
    assert m.percentile([], 50) is None
    assert m.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    with pytest.raises(ValueError):
        m.percentile([1], 101)


def test_score_groups_by_category_and_overall() -> None:
    num = gold(item_id="n")
    off = gold(answerable=False, category="off_topic", item_id="o")
    pairs = [(num, outcome(latency_ms=10, item_id="n")),
             (off, outcome("No.", refused=True, citations=(), latency_ms=30, item_id="o"))]
    overall = score(pairs, k=5)
    assert (overall.n, overall.n_answerable, overall.accuracy, overall.refusal_accuracy) == (2, 1, 1.0, 1.0)
    assert overall.latency_p50_ms == 20
    cats = score_by_category(pairs, k=5)
    assert list(cats) == ["numeric", "off_topic"]
    assert cats["off_topic"].citation_recall is None


# -- floors ----------------------------------------------------------------------------------
def test_floor_violations_name_the_set_split_metric_and_direction(tmp_path) -> None:
    import json

    from eval.floors import load_floors, violations

    path = tmp_path / "floors.json"
    path.write_text(json.dumps({"k": 3, "sets": {"news": {
        "split": "test", "min": {"strict_accuracy": 0.9}, "max": {"false_answer_rate": 0.1}}}}))
    floor = load_floors(path).sets["news"]
    unans = gold(answerable=False, category="off_topic", item_id="u")
    pairs = [(gold(), outcome()), (unans, outcome())]  # the unanswerable one is answered: wrong
    broken = violations(floor, score(pairs, 3), "news")
    assert broken == ["news[test].strict_accuracy = 0.5 (below floor 0.9)",
                      "news[test].false_answer_rate = 1.0 (above ceiling 0.1)"]
    assert violations(floor, None, "news") == ["news[test]: no items scored"]
    path.write_text(json.dumps({"sets": {"news": {"split": "test", "min": {"false_answer_rate": 0.1}}}}))
    with pytest.raises(ValueError, match="belongs under max"):
        load_floors(path)


# -- strict scoring: the direct answer is judged on its own ---------------------------------
def _strict_outcome(text: str, short: str = "", refused: bool = False) -> Outcome:
    return Outcome("q1", text=text, refused=refused, citations=(S_FACT,), short_answer=short)


def test_a_wrong_short_answer_before_a_right_quote_is_strictly_wrong_but_leniently_right() -> None:
    o = _strict_outcome("More than 130 [1]\n\nThe old bridge has 12 stone arches. [1]", short="More than 130")
    assert m.answer_correct(gold(), o) and not m.answer_correct_strict(gold(), o)
    right = _strict_outcome("12 arches [1]\n\nThe old bridge has 12 stone arches. [1]", short="12 arches")
    assert m.answer_correct_strict(gold(), right)


def test_without_short_answer_the_lead_before_the_blank_line_is_judged() -> None:
    assert m.direct_answer(_strict_outcome("About 130.\n\nIt has 12 arches. [1]")) == "About 130."
    assert not m.answer_correct_strict(gold(), _strict_outcome("About 130.\n\nIt has 12 arches. [1]"))
    # no blank line: the whole text is the answer
    assert m.answer_correct_strict(gold(), _strict_outcome("It has 12 arches. [1]"))


def test_yes_no_items_must_state_the_right_yes_or_no() -> None:
    item = GoldItem(id="y", category="yes_no", question="Is it open?", answerable=True,
                    reference="No, it is closed.", must=(("closed", "no"),),
                    evidence=(Evidence(DOC, 0, 1, "x", (2,)),))
    assert item.polarity == "no"
    assert m.answer_correct_strict(item, _strict_outcome("No. [1]", short="No"))
    assert not m.answer_correct_strict(item, _strict_outcome("Yes. It is closed [1]", short="Yes"))
    assert not m.answer_correct_strict(item, _strict_outcome("It is closed. [1]", short="It is closed"))
    assert not m.answer_correct_strict(item, _strict_outcome("Yes and no.", short="Yes and no"))


def test_squad_items_use_official_em_f1_and_a_refusal_predicts_no_answer() -> None:
    ans = GoldItem(id="s", category="factoid", question="Who?", answerable=True, reference="Rollo",
                   must=(("Rollo", "Rollo of Normandy"),), evidence=(Evidence(DOC, 0, 1, "x", (2,)),),
                   benchmark="squad2")
    imp = GoldItem(id="t", category="not_in_article", question="Who?", answerable=False, reference="-",
                   must=(), evidence=(), benchmark="squad2")
    assert m.squad_scores(ans, _strict_outcome("x", short="the Rollo")) == (1.0, 1.0)
    assert m.squad_scores(ans, _strict_outcome("x", short="Rollo, a Viking")) == (0.0, pytest.approx(2 / 3))
    assert m.answer_correct_strict(ans, _strict_outcome("x", short="Rollo, a Viking"))
    assert not m.answer_correct_strict(ans, _strict_outcome("x", short="William"))
    assert m.squad_scores(imp, _strict_outcome("", refused=True)) == (1.0, 1.0)
    assert m.squad_scores(imp, _strict_outcome("x", short="Rollo")) == (0.0, 0.0)
    assert m.squad_scores(gold(), _strict_outcome("x")) is None
