"""The LLM client against a streaming server that fails on cue (``fake_llm_server``).

What a real server adds to a fake one is how it fails: a stream cut in the middle, a silent
first token, a 503 while the model loads, template tokens in the text, a reply with no
citations. Each must end in the model's verified answer or in the extractive answer with a
reason code and a notice naming the server and the model, never in an unsupported claim.
And no request may leave 127.0.0.1 unless the user configured another host.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fake_llm_server import FakeLLMServer, Plan, recording_proxy

from assistant.backends.llm_client import LLMInterrupted, clean_reply, is_loopback, openai_like_chat
from assistant.core.errors import BackendError
from assistant.core.settings import Settings
from assistant.core.types import Answer, Document, Reason
from assistant.engine import Assistant
from assistant.index.memory import snapshot_from_rows
from ingest.sentences import split_sentences

pytest.importorskip("llama_index.llms.openai_like", reason="the llm extra is not installed")

QUESTION = "How many countries agreed to send troops?"
TROOPS = "Up to 26 of them"
MODEL = "tiny-test-model"


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().running() as fake:
        yield fake


@pytest.fixture
def assistant(article_text: str, fake_embedder: Any, tmp_path: Any, server: FakeLLMServer) -> Assistant:
    """The article in memory, answering with the llm backend from ``server``."""
    doc = Document(doc_id="article.txt", text=article_text, source="article.txt")
    sentences = split_sentences(article_text, doc.doc_id)
    snapshot = snapshot_from_rows([doc], sentences, fake_embedder.embed([s.text for s in sentences]))
    settings = replace(Settings.from_env(), index_dir=tmp_path / "unused", backend="llm",
                       llm_base_url=server.url, llm_model=MODEL, llm_read_timeout_s=5.0, llm_timeout_s=10.0,
                       llm_retry_backoff_s=0.01)
    return Assistant(settings, snapshot=snapshot, embedder=fake_embedder)


def troops_marker(server: FakeLLMServer) -> int:
    """The [n] the last prompt gave the sentence that answers QUESTION."""
    prompt = server.requests[-1]["body"]["messages"][-1]["content"]
    return int(re.search(r"^\[(\d+)\] " + re.escape(TROOPS), prompt, flags=re.M).group(1))


def assert_exact(answer: Answer, assistant: Assistant) -> None:
    assert answer.citations
    for c in answer.citations:
        assert assistant.documents[c.doc_id].text[c.start:c.end] == c.text


def test_the_stream_is_assembled_and_leaked_template_tokens_cut(server: FakeLLMServer) -> None:
    server.plans = [Plan(["Up to 26 ", "countries [1].", "<|im_end|>\n<|im_start|>user\nmore"])]
    settings = replace(Settings(), llm_base_url=server.url, llm_model=MODEL)
    assert openai_like_chat(settings)([{"role": "user", "content": "hi"}]) == "Up to 26 countries [1]."
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["stream"] is True and request["body"]["model"] == MODEL
    assert request["body"]["max_tokens"] == settings.llm_max_tokens


def test_reply_is_cleaned_of_reasoning_and_template_tokens() -> None:
    assert clean_reply("<think>hmm [9]</think>Paris [1].</s>junk") == "Paris [1]."
    assert clean_reply("Paris [1].") == "Paris [1]."


def test_a_verified_streamed_answer_is_the_llms(assistant: Assistant, server: FakeLLMServer) -> None:
    def reply() -> None:  # the marker is only known once the prompt is seen: answer the 2nd request
        server.plans = [Plan(["Up to 26 countries ", f"agreed to send troops [{troops_marker(server)}]."])]

    server.plans = [Plan(["The documents do not say."])]
    assistant.ask(QUESTION)
    reply()
    answer = assistant.ask(QUESTION)
    assert answer.backend == "llm" and not answer.fallback and not answer.refused
    assert answer.claims == 1 and answer.claims_dropped == 0
    assert_exact(answer, assistant)


def test_server_dying_mid_answer_gives_a_notice_and_the_extractive_answer(
        assistant: Assistant, server: FakeLLMServer) -> None:
    server.plans = [Plan(["Up to 26 countries ", "agreed"], die=True)]
    answer = assistant.ask(QUESTION)
    assert answer.fallback == Reason.LLM_INTERRUPTED and answer.backend == "extractive"
    assert not answer.error and not answer.refused
    assert "stopped in the middle" in answer.notice and server.url in answer.notice and MODEL in answer.notice
    assert_exact(answer, assistant)
    assert len(server.requests) == 1, "a reply that had started is not asked again"


def test_a_silent_server_times_out_without_a_retry(assistant: Assistant, server: FakeLLMServer) -> None:
    assistant.settings = replace(assistant.settings, llm_read_timeout_s=0.3, llm_retries=2)
    server.plans = [Plan(["late [1]."], stall_s=2.0)]
    t0 = time.perf_counter()
    answer = assistant.ask(QUESTION)
    assert time.perf_counter() - t0 < 1.8
    assert answer.fallback == Reason.LLM_INTERRUPTED and "sent nothing for 0.3 s" in answer.notice
    assert MODEL in answer.notice and len(server.requests) == 1


def test_the_whole_reply_is_bounded(assistant: Assistant, server: FakeLLMServer) -> None:
    assistant.settings = replace(assistant.settings, llm_timeout_s=0.2)
    server.plans = [Plan(["word "] * 3, stall_s=0.3)]
    answer = assistant.ask(QUESTION)
    assert answer.fallback == Reason.LLM_INTERRUPTED and "within 0.2 s" in answer.notice


def test_a_503_while_loading_is_retried(assistant: Assistant, server: FakeLLMServer) -> None:
    server.plans = [Plan(status=503), Plan(["The documents do not say."])]
    answer = assistant.ask(QUESTION)
    assert len(server.requests) == 2 and answer.reason == Reason.MODEL_DECLINED and not answer.error


@pytest.mark.parametrize(("reply", "code"), [
    ("Many countries agreed to help Ukraine.", Reason.LLM_UNCITED),
    ("Spain will lead the cheese festival in Lyon [2].", Reason.LLM_UNVERIFIED),
    ("Up to 40 countries agreed to send troops [{n}].", Reason.LLM_UNVERIFIED),
])
def test_no_or_bad_citations_fall_back_with_a_reason_code(
        assistant: Assistant, server: FakeLLMServer, reply: str, code: Reason) -> None:
    server.plans = [Plan(["The documents do not say."])]
    assistant.ask(QUESTION)  # learn the marker of the answering sentence
    server.plans = [Plan([reply.format(n=troops_marker(server))])]
    answer = assistant.ask(QUESTION)
    assert answer.fallback == code and answer.backend == "extractive"
    assert answer.claims == 1 and answer.claims_dropped == 1
    assert "40" not in answer.text and "Spain" not in answer.text and "Many countries" not in answer.text
    assert_exact(answer, assistant)


def test_with_fallback_off_an_unverified_reply_is_a_refusal(assistant: Assistant,
                                                            server: FakeLLMServer) -> None:
    assistant.settings = replace(assistant.settings, llm_fallback=False)
    server.plans = [Plan(["Many countries agreed to help."])]
    answer = assistant.ask(QUESTION)
    assert answer.refused and answer.reason == Reason.LLM_UNCITED and not answer.citations


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_error_names_url_model_and_attempts() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    settings = replace(Settings(), llm_base_url=url, llm_model=MODEL, llm_retries=1, llm_retry_backoff_s=0.01)
    with pytest.raises(BackendError) as caught:
        openai_like_chat(settings)([{"role": "user", "content": "hi"}])
    assert not isinstance(caught.value, LLMInterrupted)
    message = str(caught.value)
    assert url in message and MODEL in message and "after 2 attempts" in message


def test_loopback_requests_ignore_proxy_variables(server: FakeLLMServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with recording_proxy() as (proxy, seen):
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        settings = replace(Settings(), llm_base_url=server.url, llm_model=MODEL)
        assert openai_like_chat(settings)([{"role": "user", "content": "hi"}])
    assert (seen, [r["path"] for r in server.requests]) == ([], ["/v1/chat/completions"])


def test_another_host_is_reached_only_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-loopback URL is the user's choice: the request goes there (here through their
    proxy, which records it) and nowhere else."""
    with recording_proxy() as (proxy, seen):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        settings = replace(Settings(), llm_base_url="http://llm.example.test:8080/v1", llm_model=MODEL,
                           llm_retries=0)
        with pytest.raises(BackendError):
            openai_like_chat(settings)([{"role": "user", "content": "hi"}])
    assert seen == ["POST http://llm.example.test:8080/v1/chat/completions"]


@pytest.mark.parametrize(("url", "local"), [
    ("http://127.0.0.1:11434/v1", True), ("http://localhost:8000/v1", True), ("http://[::1]:8000/v1", True),
    ("http://127.8.0.1/v1", True), ("http://10.0.0.5:8000/v1", False), ("https://api.example.com/v1", False),
    ("http://localhost.example.com/v1", False),
])
def test_is_loopback(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def test_a_marker_after_no_claim_cites_nothing() -> None:
    from assistant.backends.llm_backend import check_reply
    from assistant.core.types import Citation

    source = Citation(text="Up to 26 of them agreed.", doc_id="d", sentence_id=0, start=0, end=24)
    checked = check_reply("The document is: [1]", [source])
    assert checked.citations == [] and checked.cited and checked.claims == 0


def test_cli_prints_the_extractive_answer_and_a_note_when_the_server_dies(
        assistant: Assistant, server: FakeLLMServer) -> None:
    import io

    from assistant.__main__ import main

    server.plans = [Plan(["Up to 26 "], die=True)]
    out, err = io.StringIO(), io.StringIO()
    assert main([QUESTION, "--backend", "llm"], assistant=assistant, stdout=out, stderr=err) == 0
    assert TROOPS in out.getvalue() and "[1]" in out.getvalue()
    assert err.getvalue().startswith("note: ") and "stopped in the middle" in err.getvalue()
    assert MODEL in err.getvalue()


def test_the_web_chat_shows_the_note_under_a_fallback_answer(
        assistant: Assistant, server: FakeLLMServer) -> None:
    pytest.importorskip("gradio", reason="the ui extra is not installed")
    from ui.render import answer_html

    server.plans = [Plan(["Many countries agreed to help Ukraine."])]
    answer = assistant.ask(QUESTION)
    html = answer_html(answer, assistant.documents)
    assert 'class="dq-foot dq-notice"' in html and "cited none of the sentences" in html
    assert "dq-notice" not in answer_html(replace(answer, notice=""), assistant.documents)
