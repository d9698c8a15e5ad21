"""The harness end to end over a fake assistant: runs, errors, report files, plot, compare, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.core.types import Answer, Citation
from eval.__main__ import main
from eval.compare import compare_files
from eval.dataset import GoldItem, parse_lines
from eval.export import export_records
from eval.plot import plot_scores
from eval.report import build_report, format_table, scores_from_report, to_markdown, write_report
from eval.runner import ABORT_AFTER, run_backend

SENTENCES = {2: "The old bridge has 12 stone arches.", 9: "It crosses the river in Lyon."}
# A document whose sentences 0..9 are numbered so that sentence 2 and 9 are the ones above.
DOC_TEXT = " ".join(SENTENCES.get(i, f"Filler sentence number {i}.") for i in range(10))


def _span(sid: int) -> dict[str, object]:
    start = DOC_TEXT.index(SENTENCES[sid])
    return {"doc_id": "a.txt", "start": start, "end": start + len(SENTENCES[sid]), "text": SENTENCES[sid]}


def _items() -> list[GoldItem]:
    rows = [
        {"id": "n1", "category": "numeric", "question": "How many arches?", "answerable": True,
         "reference": "12", "must": [["12"]], "evidence": [_span(2)], "split": "test"},
        {"id": "f1", "category": "factoid", "question": "Where?", "answerable": True,
         "reference": "Lyon", "must": [["Lyon"]], "evidence": [_span(9)], "split": "test"},
        {"id": "o1", "category": "off_topic", "question": "Capital of Peru?", "answerable": False,
         "reference": "-", "must": [], "evidence": [], "split": "dev"},
    ]
    return parse_lines([json.dumps(r) for r in rows], documents={"a.txt": DOC_TEXT})


def _cite(sid: int) -> Citation:
    return Citation(SENTENCES[sid], "a.txt", sid, 0, len(SENTENCES[sid]))


class FakeAssistant:
    """Answers n1 right, refuses f1 (a false refusal) and o1 (correct); 'llm' is down."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def ask(self, question: str, history: Any = None, backend: str | None = None) -> Answer:
        self.calls.append((question, backend))
        if backend == "llm":
            raise ConnectionError("LLM server unreachable")
        if backend == "broken-answer":
            return Answer(text="cannot reach the server", refused=True, error="cannot reach the server")
        if question.startswith("How many"):
            return Answer(text="It has 12. [1]", refused=False, citations=[_cite(2)], related=[_cite(9)])
        return Answer(text="The documents do not say.", refused=True, related=[_cite(9)])


@pytest.fixture
def report(tmp_path: Path) -> dict[str, Any]:
    items = _items()
    fake = FakeAssistant()
    runs = [run_backend(fake, items, "extractive", k=5, progress=False),
            run_backend(fake, items, "llm", k=5, progress=False)]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("{}", encoding="utf-8")
    return build_report(runs, items, 5, gold, {"limit": None})


def test_scores_and_failing_backend_is_reported_not_raised(report: dict[str, Any]) -> None:
    ext = report["backends"]["extractive"]
    assert ext["overall"]["accuracy"] == pytest.approx(2 / 3)
    assert ext["overall"]["false_refusal_rate"] == 0.5
    # No retriever on the fake: the ranking is the citations then the related sentences, so the
    # refused f1 still retrieved its evidence (a retrieval success, an answering failure).
    assert ext["categories"]["factoid"]["mrr"] == 1.0
    assert ext["categories"]["factoid"]["accuracy"] == 0.0
    assert ext["items"][0]["retrieved"] == [2, 9]
    llm = report["backends"]["llm"]
    assert "LLM server unreachable" in llm["error"] and llm["overall"] is None
    assert "ERROR" in format_table(scores_from_report(report)["llm"])


def test_backend_error_in_answer_is_not_credited_as_refusal() -> None:
    items = _items()
    run = run_backend(FakeAssistant(), items, "broken-answer", k=5, progress=False)
    assert run.failed and len(run.outcomes) == ABORT_AFTER == len(items)
    assert "cannot reach the server" in run.error


def test_report_files_markdown_plot_and_compare(report: dict[str, Any], tmp_path: Path) -> None:
    a = write_report(report, tmp_path, stem="a")
    assert a.with_suffix(".md").exists()
    md = to_markdown(report)
    assert "| f1 | Where?" in md and "n1 |" not in md.split("Incorrect items")[1]
    png = plot_scores(scores_from_report(report), tmp_path / "a.png")
    assert png is not None and png.stat().st_size > 1000
    better = json.loads(a.read_text())
    better["backends"]["extractive"]["overall"]["accuracy"] = 1.0
    b = tmp_path / "b.json"
    b.write_text(json.dumps(better))
    out = compare_files(a, b)
    assert "accuracy" in out and "+0.33 +" in out
    assert main(["--compare", str(a), str(b)]) == 0


def test_export_uses_ragas_field_names(tmp_path: Path) -> None:
    items = _items()
    runs = [run_backend(FakeAssistant(), items, "extractive", k=5, progress=False)]
    path = tmp_path / "ragas.jsonl"
    assert export_records(runs, items, path) == 3
    first = json.loads(path.read_text().splitlines()[0])
    assert {"user_input", "retrieved_contexts", "response", "reference"} <= set(first)
    assert first["retrieved_contexts"][0] == SENTENCES[2]


def test_cli_rejects_a_bad_gold_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    assert main(["--gold", str(bad)]) == 2
    assert "g.jsonl:1" in capsys.readouterr().err


class _Sent:
    def __init__(self, sid: int) -> None:
        self.doc_id, self.sentence_id, self.text = "a.txt", sid, SENTENCES[sid]


class FakeRetriever:
    """Mimics the private retriever surface the runner probes: embedder, score_all, sentences."""

    def __init__(self) -> None:
        self.sentences = [_Sent(2), _Sent(9)]
        self.embedder = self
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(texts)
        return [[1.0] for _ in texts]

    def score_all(self, query: str, query_vec: Any = None) -> tuple[list[float], None, None]:
        return ([0.1, 0.9] if query.startswith("Where") else [0.9, 0.1]), None, None


def test_retrieval_ranking_comes_from_the_retriever_in_one_batch() -> None:
    fake = FakeAssistant()
    fake.retriever = FakeRetriever()  # type: ignore[attr-defined]
    run = run_backend(fake, _items(), "extractive", k=1, progress=False)
    assert [[r.sentence_id for r in o.retrieved] for o in run.outcomes] == [[2], [9], [2]]
    assert len(fake.retriever.batches) == 1  # type: ignore[attr-defined]
