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

DOC = "Intro line here. The bridge has 12 arches. It crosses the river."
SPAN = {"doc_id": "d.txt", "start": 17, "end": 42, "text": "The bridge has 12 arches."}
DOCS = {"d.txt": DOC}
GOOD = {"id": "x1", "category": "numeric", "question": "How many?", "answerable": True,
        "reference": "12.", "must": [["12"]], "evidence": [SPAN], "split": "dev"}


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
    items = load_gold()
    assert check_evidence(items, keys) == []
    assert all(article_text[e.start:e.end] == e.text for it in items for e in it.evidence)


def test_parse_good_line_derives_sentence_ids_from_the_span() -> None:
    [item] = parse_lines([line()], documents=DOCS)
    assert item.id == "x1" and item.must == (("12",),) and item.line == 1 and item.split == "dev"
    assert item.evidence_keys == {("d.txt", 1)}


def test_a_span_that_does_not_match_its_document_names_file_line_and_id() -> None:
    moved = {**SPAN, "start": 16, "end": 41}
    with pytest.raises(GoldDataError, match=r"g\.jsonl:1 \(id x1\): 'evidence\[0\]': d\.txt\[16:41\] is"):
        parse_lines([line(evidence=[moved])], source="g.jsonl", documents=DOCS)
    with pytest.raises(GoldDataError, match=r"document 'nope\.txt' not found"):
        parse_lines([line(evidence=[{**SPAN, "doc_id": "nope.txt"}])], source="g.jsonl", documents=DOCS)


@pytest.mark.parametrize(("changes", "needle"), [
    ({"must": None}, "missing field(s) ['must']"),
    ({"category": "trivia"}, "unknown category 'trivia'"),
    ({"answerable": "yes"}, "'answerable' must be true or false"),
    ({"must": [["12"], []]}, "'must[1]'"),
    ({"must": ["12"]}, "'must[0]'"),
    ({"evidence": [{"doc_id": "d.txt", "sentence_id": 1}]}, "'evidence[0]' must be"),
    ({"evidence": [{**SPAN, "end": 17}]}, "'evidence[0]' must be"),
    ({"split": "train"}, "'split' must be one of ['dev', 'test']"),
    ({"split": None}, "missing field(s) ['split']"),
    ({"category": "yes_no", "reference": "It is."}, "must start with Yes or No"),
    ({"benchmark": "trivia"}, "'benchmark' must be one of"),
    ({"doc_id": 3}, "'doc_id' must be a document file name"),
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
        parse_lines(["", line(id="ok"), line(id="bad", **changes)], source="gold.jsonl", documents=DOCS)
    assert "gold.jsonl:3" in str(err.value)
    assert needle in str(err.value)


def test_invalid_json_and_duplicate_ids_are_reported_with_line() -> None:
    with pytest.raises(GoldDataError, match=r"g:2: invalid JSON"):
        parse_lines([line(), "{not json"], source="g", documents=DOCS)
    with pytest.raises(GoldDataError, match=r"g:2: duplicate id 'x1' \(first on line 1\)"):
        parse_lines([line(), line()], source="g", documents=DOCS)


def test_load_gold_reports_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line() + "\n" + line(id="y", category="nope") + "\n", encoding="utf-8")
    with pytest.raises(GoldDataError, match=r"bad\.jsonl:2 \(id y\)"):
        load_gold(bad, documents=DOCS)


def test_check_evidence_flags_sentences_the_index_lacks() -> None:
    items = parse_lines([line()], documents=DOCS)
    [problem] = check_evidence(items, [("d.txt", 0)])
    assert "d.txt#1" in problem


def test_select_filters_by_category_and_limit() -> None:
    items = load_gold(GOLD_PATH)
    off = select(items, ["off_topic"])
    assert off and all(it.category == "off_topic" for it in off)
    assert all(not it.answerable for it in off) and "off_topic" in UNANSWERABLE_CATEGORIES
    assert len(select(items, None, 3)) == 3
    with pytest.raises(ValueError, match="unknown category"):
        select(items, ["nope"])
