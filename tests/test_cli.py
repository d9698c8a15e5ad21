"""``python -m assistant``: output format, exit codes, and a light, traceback-free start.

Formatting and argument handling use a stub assistant (the answerer is being rewritten and
its wording is not this CLI's business); the process-level promises — exit code 2 with one
``error:`` line for a missing or corrupt index, no torch on the question path — run the real
module in a subprocess.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.__main__ import main
from assistant.core.errors import IndexCorruptError, IndexMissingError
from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.core.types import Answer, Citation

DOC = "Leaders met in Paris on Thursday. Up to 26 countries agreed to send troops. Spain declined."
CIT_PARIS = Citation(text=DOC[0:33], doc_id="news.txt", sentence_id=0, start=0, end=33, score=0.9)
CIT_TROOPS = Citation(text=DOC[34:75], doc_id="news.txt", sentence_id=1, start=34, end=75, score=0.8)
CITATION_LINE = re.compile(r"^\[(\d+)\] (\S+) #(\d+) \((\d+)–(\d+)\): (.*)$")


class StubAssistant:
    """Returns a fixed answer (or raises) and records how it was asked."""

    def __init__(self, answer: Answer | None = None, exc: Exception | None = None) -> None:
        self.answer = answer or Answer(text="They met in Paris [1] and 26 agreed [2].", refused=False,
                                       citations=[CIT_PARIS, CIT_TROOPS])
        self.exc = exc
        self.calls: list[dict[str, Any]] = []

    def ask(self, question: object, history: Any = None, **kwargs: Any) -> Answer:
        self.calls.append({"question": question, "history": history, **kwargs})
        if self.exc:
            raise self.exc
        return self.answer


def run(argv: list[str], stub: StubAssistant) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, assistant=stub, stdout=out, stderr=err)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_prints_answer_then_numbered_citations() -> None:
    code, out, err = run(["Where did they meet?"], StubAssistant())
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "They met in Paris [1] and 26 agreed [2]."
    cited = [CITATION_LINE.match(line) for line in lines[2:]]
    assert all(cited) and len(cited) == 2
    for n, (m, c) in enumerate(zip(cited, (CIT_PARIS, CIT_TROOPS), strict=True), start=1):
        assert m is not None
        assert (int(m[1]), m[2], int(m[3]), int(m[4]), int(m[5]), m[6]) == \
               (n, c.doc_id, c.sentence_id, c.start, c.end, c.text)
        assert DOC[int(m[4]):int(m[5])] == m[6]


def test_refusal_shows_related_sentences_as_not_cited() -> None:
    refusal = Answer(text="The documents do not say.", refused=True, related=[CIT_TROOPS])
    code, out, _ = run(["Who won the World Cup?"], StubAssistant(refusal))
    assert code == 0
    assert "related (not cited)" in out and CIT_TROOPS.text in out
    assert not any(CITATION_LINE.match(line) for line in out.splitlines())


def test_json_prints_the_whole_answer() -> None:
    stub = StubAssistant()
    code, out, _ = run(["Where did they meet?", "--json"], stub)
    assert code == 0
    assert json.loads(out) == stub.answer.to_dict()


def test_options_reach_ask(tmp_path: Path) -> None:
    history = [{"role": "user", "content": "Where did they meet?"},
               {"role": "assistant", "content": "Paris."}]
    hist_file = tmp_path / "h.json"
    hist_file.write_text(json.dumps({"messages": history}), encoding="utf-8")
    stub = StubAssistant()
    code, _, _ = run(["And", "when?", "--history", str(hist_file), "--doc", "a.txt,b.md", "--doc", "c.pdf",
                      "--top-k", "5", "--backend", "llm"], stub)
    assert code == 0
    assert stub.calls == [{"question": "And when?", "history": history, "doc_ids": ["a.txt", "b.md", "c.pdf"],
                           "top_k": 5, "backend": "llm"}]


@pytest.mark.parametrize("content, expected", [
    ("{not json", "not valid JSON"),
    ('"just a string"', "not a list"),
    (None, "cannot read"),
])
def test_bad_history_file_is_a_one_line_error(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "history.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    stub = StubAssistant()
    code, out, err = run(["Where?", "--history", str(path)], stub)
    assert code == 2 and out == "" and stub.calls == []
    assert err.startswith("error: ") and expected in err and str(path) in err and err.count("\n") == 1


def test_malformed_history_items_are_the_answers_message(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('[{"role": "system", "content": "x"}]', encoding="utf-8")
    bad = Answer(text="history role 'system' must be 'user' or 'assistant'", refused=True,
                 error="history role 'system' must be 'user' or 'assistant'")
    stub = StubAssistant(bad)
    code, out, err = run(["Where?", "--history", str(path)], stub)
    assert code == 1 and stub.calls[0]["history"] == [{"role": "system", "content": "x"}]
    assert "history role" in err and out == ""


def test_bad_question_exits_1_with_the_answers_message() -> None:
    bad = Answer(text="Please type a question.", refused=True, error="Please type a question.")
    code, out, err = run([""], StubAssistant(bad))
    assert (code, out, err) == (1, "", "Please type a question.\n")
    code, out, _ = run(["", "--json"], StubAssistant(bad))
    assert code == 1 and json.loads(out)["error"] == "Please type a question."


def test_llm_server_down_exits_2_with_one_line() -> None:
    down = Answer(text="cannot reach the LLM server at http://127.0.0.1:9/v1; start one", refused=True,
                  error="cannot reach the LLM server at http://127.0.0.1:9/v1; start one", backend="llm")
    code, out, err = run(["Where?", "--backend", "llm"], StubAssistant(down))
    assert (code, out) == (2, "")
    assert err == "error: cannot reach the LLM server at http://127.0.0.1:9/v1; start one\n"


@pytest.mark.parametrize("exc", [
    IndexMissingError("no index at /x; build it with: python -m ingest data/"),
    IndexCorruptError("cannot read the index at /x: bad\nthing. Rebuild it"),
])
def test_index_errors_exit_2_with_one_line(exc: Exception) -> None:
    code, out, err = run(["Where?"], StubAssistant(exc=exc))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["q", "--top-k", "0"], ["q", "--top-k", "many"], ["q", "--backend", "gpt"],
                                  []])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, assistant=StubAssistant())  # type: ignore[arg-type]
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


# -- the real module in a fresh process ---------------------------------------------------------------
def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=300, env=env)


def test_missing_index_exits_2_without_traceback(tmp_path: Path) -> None:
    proc = cli("Where was the meeting held?", "--index-dir", str(tmp_path / "none"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "python -m ingest" in proc.stderr and "Traceback" not in proc.stderr


def test_corrupt_index_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "chroma.sqlite3").write_bytes(b"garbage" * 1000)
    proc = cli("Where was the meeting held?", "--index-dir", str(tmp_path / "idx"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_empty_question_exits_1(tmp_path: Path) -> None:
    proc = cli("   ", "--index-dir", str(tmp_path / "none"))
    assert proc.returncode == 1 and proc.stderr.strip() and "Traceback" not in proc.stderr


def test_question_path_is_light_and_answers(tmp_path: Path, fake_embedder: Any, article_text: str) -> None:
    """A real answer from a real (fake-embedded) index, without torch, llama-index or gradio."""
    from dataclasses import replace

    from ingest.pipeline import Ingestor

    settings = replace(Settings.from_env(), index_dir=tmp_path / "idx", chroma_host="")
    (tmp_path / "article.txt").write_text(article_text, encoding="utf-8")
    assert not Ingestor(settings, embedder=fake_embedder, with_entities=False).ingest_paths(
        [tmp_path / "article.txt"]).errors
    code = (
        "import json, sys\n"
        "from assistant.__main__ import main\n"
        "rc = main(['How many countries agreed to send troops?', '--json',"
        f" '--index-dir', {str(settings.index_dir)!r}])\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'llama_index.core', 'gradio',"
        " 'spacy') if m in sys.modules]\n"
        "print(json.dumps({'rc': rc, 'heavy': heavy}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    *answer_lines, last = proc.stdout.strip().splitlines()
    status = json.loads(last)
    assert status == {"rc": 0, "heavy": []}, status
    answer = json.loads("\n".join(answer_lines))
    for c in answer["citations"] + answer["related"]:
        assert article_text[c["start"]:c["end"]] == c["text"]


def test_explain_prints_the_reason_code_and_confidence() -> None:
    stub = StubAssistant(
        Answer(text="Paris [1].", refused=False, citations=[CIT_PARIS], reason="answered", confidence=0.87,
               certainty="confident")
    )
    code, out, _err = run(["--explain", "Where did they meet?"], stub)
    assert code == 0
    assert out.splitlines()[-1] == "reason: answered · kind:  · P(right): 0.87 (confident)"
    code, out, _err = run(["Where did they meet?"], stub)
    assert "reason:" not in out
