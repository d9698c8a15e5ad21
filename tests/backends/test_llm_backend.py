"""The LLM backend never lets the model decide what is cited.

A fake chat function stands in for the server (the autouse fixture blocks the network), so
these tests pin the verification rules: only markers into the provided sentences survive,
unsupported claims and altered quotes are dropped, a refusal stays a refusal, and a server
that is down is an ``Answer`` with a clear ``error`` — never a traceback.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from assistant.backends.llm_backend import (
    INSTALL_HINT,
    REFUSAL,
    SYSTEM_PROMPT,
    answer_with_llm,
    openai_like_chat,
    verify_reply,
)
from assistant.core.errors import BackendError
from assistant.core.settings import Settings
from assistant.core.types import Answer, Citation, Document
from assistant.engine import Assistant
from assistant.index.memory import snapshot_from_rows
from ingest.sentences import split_sentences

QUESTION = "How many countries agreed to send troops?"
TROOPS = "Up to 26 of them"  # the sentence that answers QUESTION


@pytest.fixture
def assistant(article_text: str, fake_embedder: Any, tmp_path: Any) -> Assistant:
    """An assistant over the article held in memory (fake embedder, no Chroma, no model)."""
    doc = Document(doc_id="article.txt", text=article_text, source="article.txt")
    sentences = split_sentences(article_text, doc.doc_id)
    vectors = fake_embedder.embed([s.text for s in sentences])
    snapshot = snapshot_from_rows([doc], sentences, vectors)
    settings = replace(Settings.from_env(), index_dir=tmp_path / "unused", backend="llm")
    return Assistant(settings, snapshot=snapshot, embedder=fake_embedder)


def turn(question: str = QUESTION) -> SimpleNamespace:
    # The backend reads only .query and .question of assistant.language.conversation.Turn.
    return SimpleNamespace(question=question, query=question)


def number_of(messages: list[dict[str, str]], needle: str) -> int:
    """The [n] under which the prompt lists the sentence containing ``needle``."""
    for line in messages[-1]["content"].splitlines():
        m = re.match(r"\[(\d+)\] (.*)", line)
        if m and needle in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"{needle!r} is not among the sentences given to the model")


def scripted(make_reply: Callable[[list[dict[str, str]]], str]) -> Callable[[list[dict[str, str]]], str]:
    """A fake chat function that records the messages it was sent."""

    def chat(messages: list[dict[str, str]]) -> str:
        chat.calls.append(messages)  # type: ignore[attr-defined]
        return make_reply(messages)

    chat.calls = []  # type: ignore[attr-defined]
    return chat


def ask_llm(assistant: Assistant, reply: Callable[[list[dict[str, str]]], str],
            question: str = QUESTION) -> Answer:
    assistant._ensure_loaded()
    return answer_with_llm(assistant, turn(question), None, 8, chat=scripted(reply))


def assert_exact(answer: Answer, assistant: Assistant) -> None:
    """Every citation is its document's exact text, and every [n] in the text resolves."""
    for c in answer.citations:
        assert assistant.documents[c.doc_id].text[c.start:c.end] == c.text
    used = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert used == set(range(1, len(answer.citations) + 1)), (answer.text, answer.citations)


# -- the prompt --------------------------------------------------------------------------------
def test_prompt_lists_numbered_sentences_and_the_rules(assistant: Assistant) -> None:
    chat = scripted(lambda m: REFUSAL)
    assistant._ensure_loaded()
    answer_with_llm(assistant, turn(), None, 5, chat=chat)
    (messages,) = chat.calls
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert REFUSAL in SYSTEM_PROMPT and "[n]" in messages[-1]["content"]
    listed = re.findall(r"^\[(\d+)\] ", messages[-1]["content"], flags=re.M)
    assert listed == [str(i) for i in range(1, 6)]
    assert QUESTION in messages[-1]["content"]
    number_of(messages, TROOPS)  # retrieval put the answering sentence in front of the model


# -- citations ---------------------------------------------------------------------------------
def test_valid_citation_is_kept_with_exact_text(assistant: Assistant) -> None:
    answer = ask_llm(assistant, lambda m: f"Up to 26 countries agreed to send them [{number_of(m, TROOPS)}].")
    assert not answer.refused and not answer.error
    assert answer.backend == "llm"
    assert len(answer.citations) == 1 and TROOPS in answer.citations[0].text
    assert answer.text.endswith("[1].")
    assert_exact(answer, assistant)


def test_invented_markers_are_dropped(assistant: Assistant) -> None:
    answer = ask_llm(assistant, lambda m: f"Up to 26 countries will send troops [{number_of(m, TROOPS)}][99]."
                                          " Spain will lead the force [42].")
    assert not answer.refused
    assert "[99]" not in answer.text and "[42]" not in answer.text
    assert "Spain" not in answer.text  # an uncited claim is not passed on
    assert [TROOPS in c.text for c in answer.citations] == [True]
    assert_exact(answer, assistant)


def test_marker_list_and_ranges_are_understood(assistant: Assistant) -> None:
    def reply(m: list[dict[str, str]]) -> str:
        a, b = number_of(m, TROOPS), number_of(m, "at least 26 countries")
        return f"At least 26 countries agreed to send troops [{a}, {b}]."

    answer = ask_llm(assistant, reply)
    assert len(answer.citations) == 2
    assert_exact(answer, assistant)


def test_marker_pointing_at_an_unrelated_sentence_is_dropped(assistant: Assistant) -> None:
    def reply(m: list[dict[str, str]]) -> str:
        wrong = next(n for n in range(1, 9) if n != number_of(m, TROOPS))
        return f"The cheese festival opens on Monday in Lyon [{wrong}]."

    answer = ask_llm(assistant, reply)
    assert answer.refused and not answer.citations


@pytest.mark.parametrize("altered", [
    'Macron said that "up to 40 of them have agreed to send troops" [{n}].',  # changed figure in a quote
    'The text says "up to 26 of them have refused to send troops" [{n}].',  # changed words in a quote
    "Up to 30 countries agreed to send troops [{n}].",  # changed figure, no quote
])
def test_altered_quotes_never_become_citations(assistant: Assistant, altered: str) -> None:
    answer = ask_llm(assistant, lambda m: altered.format(n=number_of(m, TROOPS)))
    assert answer.refused and not answer.citations
    assert "40" not in answer.text and "refused" not in answer.text and "30" not in answer.text


def test_altered_claim_dropped_but_supported_claim_kept(assistant: Assistant) -> None:
    def reply(m: list[dict[str, str]]) -> str:
        n = number_of(m, TROOPS)
        return (f'Up to 26 of them "have agreed to send troops" [{n}]. '
                f'Macron said "up to 40 of them want war" [{n}].')

    answer = ask_llm(assistant, reply)
    assert not answer.refused
    assert "40" not in answer.text and "war" not in answer.text
    assert len(answer.citations) == 1
    assert_exact(answer, assistant)


def test_verify_reply_uses_indexed_text_not_the_model_quote() -> None:
    source = Citation(text="The sky is blue over Paris.", doc_id="d", sentence_id=0, start=0, end=27)
    text, cites = verify_reply('The sky over Paris is "blue" [1].', [source])
    assert cites == [source] and text == 'The sky over Paris is "blue" [1].'
    assert verify_reply("It is green [2].", [source]) == ("", [])


# -- refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reply", [REFUSAL, REFUSAL.lower(), f"{REFUSAL} [1]", "  ", "I think it is Paris."])
def test_refusal_phrase_or_nothing_citable_is_a_refusal(assistant: Assistant, reply: str) -> None:
    answer = ask_llm(assistant, lambda m: reply)
    assert answer.refused and not answer.citations and not answer.error
    assert answer.text == REFUSAL
    assert answer.related, "the on-topic sentences are offered as related (not cited)"
    for c in answer.related:
        assert assistant.documents[c.doc_id].text[c.start:c.end] == c.text


def test_no_sentences_to_show_refuses_without_calling_the_model(assistant: Assistant) -> None:
    assistant._ensure_loaded()
    chat = scripted(lambda m: "anything [1]")
    nothing = np.zeros(len(assistant.sentences), dtype=bool)
    answer = answer_with_llm(assistant, turn(), nothing, 8, chat=chat)
    assert answer.refused and chat.calls == []


# -- the server -----------------------------------------------------------------------------------
def test_server_error_is_an_answer_not_a_traceback(assistant: Assistant) -> None:
    def down(messages: list[dict[str, str]]) -> str:
        raise BackendError("cannot reach the LLM server at http://127.0.0.1:9/v1; start one")

    answer = ask_llm(assistant, down)
    assert answer.refused and "127.0.0.1:9" in answer.error and answer.text == answer.error


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_names_the_url_and_how_to_start_one(assistant: Assistant) -> None:
    pytest.importorskip("llama_index.llms.openai_like", reason="the llm extra is not installed")
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    assistant.settings = replace(assistant.settings, llm_base_url=url)
    answer = assistant.ask(QUESTION, backend="llm")
    assert answer.refused and not answer.citations
    assert url in answer.error and "ollama serve" in answer.error
    with pytest.raises(BackendError, match=re.escape(url)):
        openai_like_chat(assistant.settings)([{"role": "user", "content": "hi"}])


def test_missing_client_package_names_the_extra(assistant: Assistant,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_index.llms.openai_like", None)  # import now fails
    answer = assistant.ask(QUESTION, backend="llm")
    assert answer.refused and INSTALL_HINT in answer.error
    with pytest.raises(ImportError, match=re.escape(INSTALL_HINT)):
        openai_like_chat(assistant.settings)


@pytest.fixture
def fake_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback OpenAI-compatible server that cites the troops sentence, plus its requests."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({"path": self.path, "body": body})
            n = number_of(body["messages"], TROOPS)
            payload = json.dumps({
                "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": f"Up to 26 countries agreed to send troops [{n}]."}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    finally:
        server.shutdown()
        server.server_close()


def test_end_to_end_through_an_openai_compatible_server(assistant: Assistant, fake_server: Any) -> None:
    pytest.importorskip("llama_index.llms.openai_like", reason="the llm extra is not installed")
    url, requests = fake_server
    assistant.settings = replace(assistant.settings, llm_base_url=url, llm_model="tiny-test")
    answer = assistant.ask(QUESTION)  # settings.backend == "llm"
    assert not answer.refused, answer
    assert answer.backend == "llm" and len(answer.citations) == 1
    assert_exact(answer, assistant)
    assert requests[0]["path"] == "/v1/chat/completions"
    assert requests[0]["body"]["model"] == "tiny-test"
    assert requests[0]["body"]["messages"][0]["role"] == "system"
