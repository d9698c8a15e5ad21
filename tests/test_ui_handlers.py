"""Page behaviour without a browser: streaming, memory, failures and upload checks, over fakes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Citation, Document
from assistant.errors import IngestError
from assistant.settings import Settings
from ingest.pipeline import IngestReport
from ui.handlers import PENDING_HTML, ChatController

TEXT = "Leaders met in Paris on Thursday. They agreed on troops."


@dataclass
class FakeAssistant:
    """Records every ask() call and answers with the first sentence of the article."""

    settings: Settings = field(default_factory=lambda: replace(Settings(), max_file_bytes=100))
    calls: list[dict[str, Any]] = field(default_factory=list)
    reloads: int = 0
    fail: Exception | None = None

    @property
    def documents(self) -> dict[str, Document]:
        return {"article.txt": Document("article.txt", TEXT, "article.txt", "h", "article")}

    def document_sentences(self, doc_id: str) -> list[Any]:
        return [object(), object()]

    def ask(self, question: str, history: list[dict[str, str]], **kw: Any) -> Answer:
        self.calls.append({"question": question, "history": list(history), **kw})
        if self.fail:
            raise self.fail
        cite = Citation(TEXT[:33], "article.txt", 0, 0, 33, 0.9)
        return Answer(text=f"{TEXT[:33]} [1]", refused=False, citations=[cite])

    def reload(self) -> None:
        self.reloads += 1


class FakeIngestor:
    def __init__(self) -> None:
        self.names: list[str] = []

    def ingest_upload(self, name: str, data: bytes) -> IngestReport:
        self.names.append(name)
        if b"bad" in data:
            return IngestReport(errors=[IngestError(name, "has no sentences to index")])
        return IngestReport(added=[name], sentences=2, chunks=1, seconds=0.1)


@pytest.fixture
def ctl() -> ChatController:
    return ChatController(FakeAssistant(), FakeIngestor(), stream_delay=0)


def _run(ctl: ChatController, question: str, chat: list[Any], history: list[Any], **kw: Any) -> list[tuple]:
    args = {"doc_ids": [], "top_k": 8, "backend": "extractive", **kw}
    return list(ctl.respond(question, chat, history, args["doc_ids"], args["top_k"], args["backend"]))


def test_answer_streams_then_remembers_plain_text(ctl: ChatController) -> None:
    steps = _run(ctl, "Where did they meet?", [], [])
    assert steps[0][0] == "" and steps[0][1][-1]["content"] == PENDING_HTML
    final = steps[-1]
    assert len(steps) > 3  # the answer arrived in pieces
    assert "dq-card" in final[1][-1]["content"] and "dq-done" in final[1][-1]["content"]
    history = final[2]
    assert history == [{"role": "user", "content": "Where did they meet?"},
                       {"role": "assistant", "content": f"{TEXT[:33]} [1]"}]
    assert 'id="dq-mark-1"' in final[6]
    _run(ctl, "And when?", final[1], history, doc_ids=["article.txt"], top_k=3)
    call = ctl.assistant.calls[-1]
    assert call["history"] == history and call["doc_ids"] == ["article.txt"] and call["top_k"] == 3


def test_question_is_escaped_in_the_chat(ctl: ChatController) -> None:
    steps = _run(ctl, "<script>alert(1)</script>", [], [])
    assert steps[-1][1][0]["content"] == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_backend_failure_is_a_message_not_a_crash(ctl: ChatController) -> None:
    ctl.assistant.fail = ConnectionError("connection refused")
    steps = _run(ctl, "Where?", [], [], backend="llm")
    msg = steps[-1][1][-1]["content"]
    assert "Something went wrong" in msg and "connection refused" in msg and "llm" in msg


def test_choosing_a_citation_marks_it_active(ctl: ChatController) -> None:
    answer = _run(ctl, "Where?", [], [])[-1][3]
    _viewer, panel = ctl.choose_citation("1", answer)
    assert "dq-active" in panel


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_upload_messages_and_reload(ctl: ChatController, tmp_path: Path) -> None:
    files = [_file(tmp_path, "photo.png", b"\x89PNG"), _file(tmp_path, "empty.txt", b""),
             _file(tmp_path, "big.txt", b"x" * 500), _file(tmp_path, "broken.md", b"bad"),
             _file(tmp_path, "notes.txt", b"Quillford hosts a festival.")]
    status, docs_html, *_rest = ctl.upload(files)
    assert "unsupported file type .png" in status
    assert "empty.txt</b> — is empty" in status
    assert "over the" in status and "limit" in status
    assert "has no sentences to index" in status
    assert "notes.txt</b> — added" in status
    assert ctl.ingestor.names == ["broken.md", "notes.txt"]  # bad files never reach the index
    assert ctl.assistant.reloads == 1 and "1 document indexed" in docs_html


def test_failed_upload_does_not_reload(ctl: ChatController, tmp_path: Path) -> None:
    ctl.upload([_file(tmp_path, "a.exe", b"MZ")])
    assert ctl.assistant.reloads == 0
