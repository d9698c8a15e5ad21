"""The suite runner's parts over fakes: shipped sets, splits, the baseline, failure causes, the
table, the index cache. The real end-to-end run is the floor test."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval import suites
from eval.baseline import baseline_outcomes
from eval.dataset import Evidence, GoldItem
from eval.failures import failure_reason, group_failures
from eval.records import Outcome, SentenceRef
from eval.scoring import score
from eval.suite_report import format_table, rows, to_markdown
from eval.suite_run import SetResult, SplitResult
from eval.suites import SETS, QuestionSet, ensure_index, index_key, resolve_suite


@pytest.fixture(scope="module")
def loaded() -> dict[str, list[GoldItem]]:
    return {qs.name: qs.load() for qs in resolve_suite("all")}


def test_every_shipped_set_loads_with_spans_that_match_its_documents(
        loaded: dict[str, list[GoldItem]]) -> None:
    assert set(loaded) == set(SETS)
    for name, items in loaded.items():
        docs = {p.name: suites._read(p) for p in SETS[name].documents}
        assert items, name
        for it in items:
            for ev in it.evidence:
                assert ev.sentence_ids, (name, it.id)
                assert docs[ev.doc_id][ev.start:ev.end] == ev.text


def test_sets_tuned_on_are_all_dev_and_new_sets_have_a_frozen_test_split(
        loaded: dict[str, list[GoldItem]]) -> None:
    for name in ("gold", "dev_article", "dev_bridge", "dev_third"):
        assert {it.split for it in loaded[name]} == {"dev"}, name
    for name in ("article_new", "news"):
        share = sum(it.split == "dev" for it in loaded[name]) / len(loaded[name])
        assert 0.3 <= share <= 0.5, (name, share)
    assert len(loaded["article_new"]) >= 40


def test_news_set_has_30_plus_varied_questions_per_article(loaded: dict[str, list[GoldItem]]) -> None:
    items = loaded["news"]
    per_doc = Counter(it.doc_id for it in items)
    assert len(per_doc) >= 4 and min(per_doc.values()) >= 30, per_doc
    assert {p.name for p in SETS["news"].documents} == set(per_doc)
    cats = Counter(it.category for it in items)
    assert {"factoid", "numeric", "paraphrase", "why", "list", "yes_no", "not_in_article"} <= set(cats)
    assert 0.15 <= cats["not_in_article"] / len(items) <= 0.25
    for doc in per_doc:  # stratified: each article has both splits
        assert {it.split for it in items if it.doc_id == doc} == {"dev", "test"}


def test_squad_split_is_by_article_and_keeps_the_four_test_articles() -> None:
    items = SETS["squad"].load()  # every 2nd question
    by_split = {sp: {it.doc_id for it in items if it.split == sp} for sp in ("dev", "test")}
    assert by_split["test"] == {f"squad_{t}.txt" for t in
                                ("1973_oil_crisis", "Normans", "Steam_engine", "Scottish_Parliament")}
    assert by_split["dev"] == {"squad_Harvard_University.txt", "squad_Force.txt"}
    assert all(it.benchmark == "squad2" for it in items)
    assert any(not it.answerable for it in items) and any(it.answerable for it in items)


def test_unknown_suite_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        resolve_suite("nope")
    assert [s.name for s in resolve_suite("article")] == ["gold", "article_new", "dev_article"]


# -- the baseline ---------------------------------------------------------------------------
class _Sent:
    def __init__(self, doc: str, sid: int, text: str) -> None:
        self.doc_id, self.sentence_id, self.text = doc, sid, text


class _Retriever:
    def __init__(self) -> None:
        self.sentences = [_Sent("a.txt", 0, "Alpha one."), _Sent("a.txt", 1, "Alpha two."),
                          _Sent("b.txt", 0, "Beta one."), _Sent("b.txt", 1, "Beta two.")]
        self.embeddings = np.array([[1.0, 0.0], [0.8, 0.6], [0.99, 0.1], [0.0, 1.0]], dtype=np.float32)
        self.embedder = self

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] for _ in texts], dtype=np.float32)


class _Assistant:
    def __init__(self) -> None:
        self.retriever = _Retriever()


def _item(item_id: str = "q", doc_id: str = "", answerable: bool = True, must: tuple[str, ...] = ("Beta",),
          sid: int = 0) -> GoldItem:
    ev = (Evidence(doc_id or "b.txt", 0, 1, "x", (sid,)),) if answerable else ()
    return GoldItem(id=item_id, category="factoid" if answerable else "not_in_article", question="Which?",
                    answerable=answerable, reference="r", must=(must,) if answerable else (), evidence=ev,
                    split="test", doc_id=doc_id)


def test_baseline_cites_the_two_most_similar_sentences_and_never_refuses() -> None:
    [o] = baseline_outcomes(_Assistant(), [_item()], k=3)
    assert not o.refused and o.short_answer == ""
    assert [c.text for c in o.citations] == ["Alpha one.", "Beta one."]
    assert o.text == "Alpha one. Beta one." and len(o.retrieved) == 3


def test_baseline_stays_within_the_items_document() -> None:
    [o] = baseline_outcomes(_Assistant(), [_item(doc_id="b.txt")], k=5)
    assert {c.doc_id for c in o.citations} == {"b.txt"} and len(o.retrieved) == 2


# -- failure causes -------------------------------------------------------------------------
REF = SentenceRef("b.txt", 0, "Beta one.")
OTHER = SentenceRef("b.txt", 1, "Gamma two.")


def _o(text: str = "Beta.", refused: bool = False, cites: tuple[SentenceRef, ...] = (REF,),
       retrieved: tuple[SentenceRef, ...] = (REF,), short: str = "") -> Outcome:
    return Outcome("q", text=text, refused=refused, citations=cites, retrieved=retrieved, short_answer=short)


@pytest.mark.parametrize(("item", "outcome", "cause"), [
    (_item(), _o(), None),
    (_item(), _o(refused=True, retrieved=(OTHER,)), "retrieval_missed"),
    (_item(), _o(refused=True), "refused_with_evidence"),
    (_item(), _o(text="Gamma.\n\nBeta one. [1]", short="Gamma"), "wrong_short_answer"),
    (_item(), _o(text="Gamma.", cites=(OTHER,)), "wrong_sentence"),
    (_item(), _o(text="Gamma.", cites=(OTHER,), retrieved=(OTHER,)), "retrieval_missed"),
    (_item(answerable=False), _o(), "answered_unanswerable"),
    (_item(answerable=False), _o(refused=True), None),
])
def test_each_wrong_item_gets_the_first_stage_that_failed(item: GoldItem, outcome: Outcome,
                                                          cause: str | None) -> None:
    assert failure_reason(item, outcome, k=5) == cause


def test_failures_are_counted_in_pipeline_order() -> None:
    pairs = [(_item(), _o(refused=True)), (_item(answerable=False), _o()), (_item(), _o(refused=True))]
    assert group_failures(pairs, 5) == {"refused_with_evidence": 2, "answered_unanswerable": 1}


# -- the table and report -------------------------------------------------------------------
def _result() -> SetResult:
    pairs = [(_item(), _o()), (_item(answerable=False), _o())]
    base = [(_item(), _o(text="Alpha one. Beta one.")), (_item(answerable=False), _o())]
    r = SetResult("news", "note", 1, 2, "/tmp/x", 1.0)
    r.splits["test"] = SplitResult(score(pairs, 5), score(base, 5), group_failures(pairs, 5), {})
    r.items = [{"id": "d1", "strict": False, "failure": "retrieval_missed", "question": "Q | pipe",
                "direct": "A", "reference": "R"}]
    return r


def test_one_table_row_per_set_and_split_with_the_baseline_beside_it() -> None:
    table = rows([_result()])
    assert table[0][:5] == ["set", "split", "n", "strict", "lenient"] and "| base strict" in table[0]
    assert table[1][:5] == ["news", "test", "2", "0.50", "0.50"]
    text = format_table([_result()])
    assert "news" in text and "base ans_right" in text


def test_markdown_lists_wrong_dev_items_only_and_the_failure_counts() -> None:
    md = to_markdown({"suite": "news", "created": "now", "git_commit": "abc", "backend": "x", "k": 5},
                     [_result()])
    assert "| news | test | 0 | 0 | 0 | 0 | 0 | 1 |" in md
    assert "Q \\| pipe" in md


# -- the index cache ------------------------------------------------------------------------
def _fake_ingestor(built: list[Path], seconds: float = 0.0) -> type:
    """An Ingestor stand-in that records each index folder it builds (taking ``seconds``)."""
    import time

    class FakeIngestor:
        def __init__(self, settings: Any) -> None:
            self.settings = settings

        def ingest_paths(self, paths: list[Path]) -> Any:
            built.append(self.settings.index_dir)
            self.settings.index_dir.mkdir(parents=True)
            time.sleep(seconds)

            class Report:
                errors: tuple[Exception, ...] = ()

                def summary(self) -> str:
                    return "1 document"
            return Report()

    return FakeIngestor


def test_index_is_built_once_and_rebuilt_when_a_document_changes(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "d.txt"
    doc.write_text("One sentence here.", encoding="utf-8")
    qs = QuestionSet("t", tmp_path / "g.jsonl", (doc,))
    built: list[Path] = []
    monkeypatch.setattr("ingest.pipeline.Ingestor", _fake_ingestor(built))
    from assistant.core.settings import Settings

    first = ensure_index(qs, Settings.from_env(), tmp_path / "cache", log=lambda m: None)
    assert ensure_index(qs, Settings.from_env(), tmp_path / "cache", log=lambda m: None) == first
    key = index_key(qs)
    doc.write_text("Another sentence now.", encoding="utf-8")
    assert index_key(qs) != key
    second = ensure_index(qs, Settings.from_env(), tmp_path / "cache", log=lambda m: None)
    assert second != first and built == [first, second]
    assert suites.CACHE_DIR.name == ".index-eval"


def test_two_runs_building_one_index_together_build_it_once(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The second caller waits on the lock and reuses the first one's index (before the lock it
    saw a folder without its done-marker, deleted it as "interrupted" and built again)."""
    import threading

    doc = tmp_path / "d.txt"
    doc.write_text("One sentence here.", encoding="utf-8")
    qs = QuestionSet("t", tmp_path / "g.jsonl", (doc,))
    built: list[Path] = []
    # the other run arrives while this one is half-way
    monkeypatch.setattr("ingest.pipeline.Ingestor", _fake_ingestor(built, seconds=0.3))
    from assistant.core.settings import Settings

    got: list[Path] = []
    runs = [threading.Thread(target=lambda: got.append(
        ensure_index(qs, Settings.from_env(), tmp_path / "cache", log=lambda m: None))) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert len(built) == 1 and got == [built[0], built[0]]
    assert (built[0] / "complete").exists()


def test_index_key_covers_the_assistant_modules_that_shape_an_index() -> None:
    """A change to the store or cache format (under assistant/) must not reuse a stale eval
    index; the answerer itself does not shape the index, so editing it keeps them."""
    from eval.suites import _ingest_sources

    names = {f"{p.parent.name}/{p.name}" for p in _ingest_sources()}
    assert {"ingest/pipeline.py", "index/store.py", "index/cache_build.py", "index/snapshot.py",
            "language/text.py"} <= names
    assert "answering/answer.py" not in names and "assistant/__init__.py" not in names


def test_two_suite_reports_compare_set_by_set(tmp_path: Path) -> None:
    import json

    from eval.compare import compare_files
    from eval.suite_report import build

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(build([_result()], "news", "x", 5)), encoding="utf-8")
    better = _result()
    better.splits["test"].system = score([(_item(), _o()), (_item(answerable=False), _o(refused=True))], 5)
    b.write_text(json.dumps(build([better], "news", "x", 5)), encoding="utf-8")
    out = compare_files(a, b)
    assert "news        test  strict_accuracy             0.50    1.00  +0.50 +" in out
    assert "false_answer_rate" in out and "squad_f1" not in out
