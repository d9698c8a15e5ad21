"""The gold file loads, is well-formed and points at real sentences; bad lines are named."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.dataset import (
    CATEGORIES,
    GOLD_PATH,
    UNANSWERABLE_CATEGORIES,
    GoldDataError,
    check_evidence,
    load_gold,
    parse_lines,
    select,
)
from ingest.sentences import split_sentences

GOOD = {"id": "x1", "category": "numeric", "question": "How many?", "answerable": True,
        "reference": "12.", "must": [["12"]], "evidence": [{"doc_id": "article.txt", "sentence_id": 2}]}


def line(**changes: object) -> str:
    raw = {**GOOD, **changes}
    return json.dumps({k: v for k, v in raw.items() if v is not None})


def test_shipped_gold_set_is_valid_and_balanced() -> None:
    items = load_gold()
    assert len(items) >= 90
    counts = Counter(it.category for it in items)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 6, counts
    assert all(it.history for it in items if it.category == "multi_turn")


def test_shipped_gold_evidence_points_at_article_sentences(article_text: str) -> None:
    keys = [s.key for s in split_sentences(article_text, "article.txt")]
    assert check_evidence(load_gold(), keys) == []


def test_parse_good_line() -> None:
    [item] = parse_lines([line()])
    assert item.id == "x1" and item.must == (("12",),) and item.line == 1
    assert item.evidence_keys == {("article.txt", 2)}


@pytest.mark.parametrize(("changes", "needle"), [
    ({"must": None}, "missing field(s) ['must']"),
    ({"category": "trivia"}, "unknown category 'trivia'"),
    ({"answerable": "yes"}, "'answerable' must be true or false"),
    ({"must": [["12"], []]}, "'must[1]'"),
    ({"must": ["12"]}, "'must[0]'"),
    ({"evidence": [{"doc_id": "article.txt", "sentence_id": -1}]}, "'evidence[0]'"),
    ({"evidence": []}, "needs at least one 'must' fact and one 'evidence'"),
    ({"category": "off_topic"}, "requires answerable=false"),
    ({"answerable": False, "category": "off_topic"}, "must have empty 'must' and 'evidence'"),
    ({"category": "multi_turn"}, "needs a 'history'"),
    ({"history": [{"role": "system", "content": "hi"}]}, "'history[0]'"),
    ({"extra": 1}, "unknown field(s) ['extra']"),
    ({"question": "  "}, "'question' must be a non-empty string"),
])
def test_bad_item_names_file_line_and_problem(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(GoldDataError) as err:
        parse_lines(["", line(id="ok"), line(id="bad", **changes)], source="gold.jsonl")
    assert "gold.jsonl:3" in str(err.value)
    assert needle in str(err.value)


def test_invalid_json_and_duplicate_ids_are_reported_with_line() -> None:
    with pytest.raises(GoldDataError, match=r"g:2: invalid JSON"):
        parse_lines([line(), "{not json"], source="g")
    with pytest.raises(GoldDataError, match=r"g:2: duplicate id 'x1' \(first on line 1\)"):
        parse_lines([line(), line()], source="g")


def test_load_gold_reports_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line() + "\n" + line(id="y", category="nope") + "\n", encoding="utf-8")
    with pytest.raises(GoldDataError, match=r"bad\.jsonl:2 \(id y\)"):
        load_gold(bad)


def test_check_evidence_flags_unknown_sentences() -> None:
    items = parse_lines([line(evidence=[{"doc_id": "article.txt", "sentence_id": 99}])])
    [problem] = check_evidence(items, [("article.txt", 2)])
    assert "article.txt#99" in problem


def test_select_filters_by_category_and_limit() -> None:
    items = load_gold(GOLD_PATH)
    off = select(items, ["off_topic"])
    assert off and all(it.category == "off_topic" for it in off)
    assert all(not it.answerable for it in off) and "off_topic" in UNANSWERABLE_CATEGORIES
    assert len(select(items, None, 3)) == 3
    with pytest.raises(ValueError, match="unknown category"):
        select(items, ["nope"])
