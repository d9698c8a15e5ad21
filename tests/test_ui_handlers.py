"""Page behaviour without a browser, over fakes: streaming, memory, per-browser documents,
fresh lists, citation clicks, copy text, concurrency, upload progress and cancel, stop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Citation, Document, Sentence
from assistant.core.settings import Settings
from ingest.loaders import SUPPORTED, load_bytes
from ingest.pipeline import IngestReport
from ui import session
from ui.handlers import PENDING_HTML, ChatController
from ui.ids import display_name, owner_of, upload_id
from ui.library import Library
from ui.uploads import DocumentsController

TEXT = "Leaders met in Paris on Thursday. They agreed on troops."
ALICE, BOB = "a" * 16, "b" * 16


def _doc(doc_id: str, text: str = TEXT) -> Document:
    return Document(doc_id, text, f"/nowhere/{doc_id}", "h", Path(doc_id).stem)


@dataclass
class FakeAssistant:
    """An index in a dict; ask() cites the first sentence of the first allowed document."""

    settings: Settings = field(default_factory=lambda: replace(Settings(), max_file_bytes=10_000))
    docs: dict[str, Document] = field(default_factory=lambda: {"article.txt": _doc("article.txt")})
    calls: list[dict[str, Any]] = field(default_factory=list)
    reloads: int = 0
    fail: Exception | None = None
    delay: float = 0.0
    running: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def documents(self) -> dict[str, Document]:
        return dict(self.docs)

    @property
    def sentences(self) -> list[Sentence]:
        return [Sentence(d, i, "x", 0, 1) for d in self.docs for i in range(2)]

    def ask(self, question: str, history: list[dict[str, str]], **kw: Any) -> Answer:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            self.calls.append({"question": question, "history": list(history), **kw})
            if self.fail:
                raise self.fail
            doc_id = (kw.get("doc_ids") or sorted(self.docs))[0]
            cite = Citation(TEXT[:33], doc_id, 0, 0, 33, 0.9)
            return Answer(text=f"{TEXT[:33]} [1]", refused=False, citations=[cite], question=question)
        finally:
            with self.lock:
                self.running -= 1

    def reload(self) -> None:
        self.reloads += 1


class FakeIngestor:
    """Writes into the fake assistant's dict; reports embedding progress in steps."""

    supported = frozenset(SUPPORTED)

    def __init__(self, assistant: FakeAssistant, steps: int = 4, step_s: float = 0.0) -> None:
        self.assistant, self.steps, self.step_s = assistant, steps, step_s
        self.written: list[str] = []
        self.deleted: list[str] = []

    def load_upload(self, name: str, data: bytes) -> Document:
        return load_bytes(data, Path(Path(name).name), self.assistant.settings.max_file_bytes)

    def ingest_documents(self, docs: list[Document], on_step: Any = None, **_kw: Any) -> IngestReport:
        doc = docs[0]
        if "bad" in doc.text:
            from assistant.core.errors import IngestError

            return IngestReport(errors=[IngestError(doc.doc_id, "has no sentences to index")])
        if on_step:
            on_step("sentences", 0, 2)
            for i in range(1, self.steps + 1):
                time.sleep(self.step_s)
                on_step("embedding", i * 10, self.steps * 10)
        old = doc.doc_id in self.assistant.docs
        self.assistant.docs[doc.doc_id] = doc
        self.written.append(doc.doc_id)
        return IngestReport(replaced=[doc.doc_id] if old else [], added=[] if old else [doc.doc_id],
                            sentences=2, seconds=0.1)

    def delete(self, doc_id: str) -> None:
        self.deleted.append(doc_id)
        self.assistant.docs.pop(doc_id, None)

    def ingest_paths(self, paths: list[Path]) -> IngestReport:
        return IngestReport(unchanged=[p.name for p in paths])


@pytest.fixture
def fake(tmp_path: Path) -> FakeAssistant:
    settings = replace(Settings(), max_file_bytes=10_000, upload_dir=tmp_path / "uploads")
    return FakeAssistant(settings=settings)  # exports land in the test's own folder


@pytest.fixture
def library(fake: FakeAssistant) -> Library:
    return Library(fake, FakeIngestor(fake))


@pytest.fixture
def ctl(library: Library) -> ChatController:
    return ChatController(library, stream_delay=0)


@pytest.fixture
def docs_ctl(library: Library) -> DocumentsController:
    return DocumentsController(library)


def _run(ctl: ChatController, question: str, chat: list[Any], history: list[Any], answers: dict | None = None,
         owner: str = ALICE, doc_filter: list[str] | None = None, top_k: int = 8) -> list[tuple]:
    return list(ctl.respond(question, chat, history, answers or {}, owner, doc_filter or [], top_k,
                            "extractive", "article.txt", "<panel>", {}))


def _upload(docs_ctl: DocumentsController, tmp_path: Path, name: str, data: bytes, owner: str = ALICE
            ) -> list[tuple]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(docs_ctl.upload([str(path)], owner, []))


def _choices(update: dict[str, Any]) -> list[str]:
    return [value for _label, value in update["choices"]]


# -- asking ----------------------------------------------------------------------------------------

def test_answer_streams_then_remembers_plain_text(ctl: ChatController, fake: FakeAssistant) -> None:
    fake.docs["b.txt"] = _doc("b.txt", "A long answer " * 40)
    steps = _run(ctl, "Where did they meet?", [], [])
    assert steps[0][0][-1]["content"] == PENDING_HTML
    assert len(steps) > 2  # the answer arrived in pieces
    chat, history, answers, viewer, panel, saved = steps[-1]
    assert "dq-card" in chat[-1]["content"] and "dq-done" in chat[-1]["content"]
    assert history == [{"role": "user", "content": "Where did they meet?"},
                       {"role": "assistant", "content": f"{TEXT[:33]} [1]"}]
    assert list(answers) == [1] and 'id="dq-mark-1"' in panel
    assert viewer["value"] == "article.txt" and "article.txt" in _choices(viewer)
    assert session.load(saved)[1] == chat  # what the browser stores is the same conversation
    assert "searched only" not in chat[-1]["content"]
    filtered = _run(ctl, "And when?", chat, history, answers, doc_filter=["article.txt"], top_k=3)[-1]
    assert "searched only article" in filtered[0][-1]["content"]  # the filter is on: the answer says so
    call = fake.calls[-1]
    assert call["history"] == history and call["doc_ids"] == ["article.txt"] and call["top_k"] == 3


def test_streaming_updates_pass_other_outputs_through(ctl: ChatController) -> None:
    """gr.skip() made Gradio rebuild components on every streamed update (most of the CPU)."""
    steps = _run(ctl, "Where did they meet?", [], [])
    for step in steps[:-1]:
        assert step[3:] == ("article.txt", "<panel>", {})


def test_question_is_escaped_in_the_chat(ctl: ChatController) -> None:
    steps = _run(ctl, "<script>alert(1)</script>", [], [])
    assert steps[-1][0][0]["content"] == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_backend_failure_is_a_message_not_a_crash(ctl: ChatController, fake: FakeAssistant) -> None:
    fake.fail = ConnectionError("connection refused")
    steps = list(ctl.respond("Where?", [], [], {}, ALICE, [], 8, "llm", None, "", {}))
    msg = steps[-1][0][-1]["content"]
    assert "Something went wrong" in msg and "connection refused" in msg and "llm" in msg


def test_start_empties_the_box_and_shows_stop() -> None:
    box, asked, ask_btn, stop_btn = ChatController.start("  Where?  ")
    assert box == "" and asked == "Where?" and ask_btn["visible"] is False and stop_btn["visible"] is True
    assert ChatController.start("   ")[1] == ""


def _as_gradio(chat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chat as Gradio hands it back to a handler: each content a list of parts."""
    return [{**m, "content": [{"type": "text", "text": m["content"]}], "metadata": None} for m in chat]


def test_stop_keeps_what_was_shown_and_forgets_the_answer(ctl: ChatController) -> None:
    partial = _as_gradio(_run(ctl, "Where did they meet?", [], [])[1][0])  # the chat while it was written
    chat, ask_btn, stop_btn = ctl.stop(partial)
    assert "dq-stopped" in chat[-1]["content"] and "stopped" in chat[-1]["content"]
    assert ask_btn["visible"] is True and stop_btn["visible"] is False
    done = _run(ctl, "Where?", [], [])[-1][0]
    assert ctl.stop(done)[0] == done  # a finished answer is left alone


def test_answers_are_computed_at_most_workers_at_once(library: Library, fake: FakeAssistant) -> None:
    """Issue 14 item 8: several answers at once, as many as settings allow, never more."""
    fake.delay = 0.05
    ctl = ChatController(library, stream_delay=0, workers=2)
    threads = [threading.Thread(target=_run, args=(ctl, f"q{i}", [], [])) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.most == 2 and len(fake.calls) == 6


def test_answer_workers_default_to_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.delenv("ASSISTANT_UI_CONCURRENCY", raising=False)
    assert Settings.from_env().answer_workers == (os.cpu_count() or 1)
    monkeypatch.setenv("ASSISTANT_UI_CONCURRENCY", "3")
    assert Settings.from_env().answer_workers == 3
    monkeypatch.setenv("ASSISTANT_UI_CONCURRENCY", "many")
    with pytest.raises(ValueError, match="'many'"):
        Settings.from_env()


# -- citations -------------------------------------------------------------------------------------

def test_clicking_a_citation_of_any_answer_shows_it(ctl: ChatController, fake: FakeAssistant) -> None:
    """Issue 14 item 7: [n] markers and cards carry their link; the click shows the sentence."""
    fake.docs["b.txt"] = _doc("b.txt")
    first = _run(ctl, "Where?", [], [], doc_filter=["b.txt"])[-1]
    second = _run(ctl, "Again?", first[0], first[1], first[2], doc_filter=["article.txt"])[-1]
    answers = second[2]
    assert 'href="#dq-cite-1-1"' in second[0][1]["content"]
    assert 'href="#dq-cite-3-1"' in second[0][3]["content"]
    viewer, panel = ctl.show_citation("cite:1-1", answers, ALICE)  # the earlier answer, other document
    assert viewer["value"] == "b.txt" and "dq-active" in panel
    assert ctl.show_citation("cite:1-9", answers, ALICE)[1] is not None  # out of range: nothing shown
    assert all(isinstance(x, dict) for x in ctl.show_citation("cite:7-1", answers, ALICE))  # no such answer


# -- documents per browser, lists read fresh -------------------------------------------------------

def test_page_load_reads_the_current_documents(ctl: ChatController, fake: FakeAssistant) -> None:
    """Issue 14 item 2: the lists come from the index when a page loads, not from server start."""
    owner, chat, _history, _answers, saved, doc_filter, viewer, _panel = ctl.load(None)
    assert owner_of(upload_id(owner, "x.txt")) == owner and chat == []
    assert _choices(doc_filter) == ["article.txt"] and viewer["value"] == "article.txt"
    fake.docs[upload_id(owner, "tram_news.txt")] = _doc(upload_id(owner, "tram_news.txt"))
    again = ctl.load(saved)
    assert again[0] == owner  # the same browser keeps its token (and so its uploads)
    assert upload_id(owner, "tram_news.txt") in _choices(again[5])


def test_upload_updates_every_list_and_shows_the_new_file(docs_ctl: DocumentsController, tmp_path: Path,
                                                           fake: FakeAssistant) -> None:
    steps = _upload(docs_ctl, tmp_path, "tram_news.txt", b"The tram opens in May.")
    progress, docs_list, doc_filter, viewer, box = steps[-1]
    new_id = upload_id(ALICE, "tram_news.txt")
    assert new_id in fake.docs and fake.reloads == 1
    assert "tram_news.txt" in docs_list and "2 documents indexed" in docs_list
    assert new_id in _choices(doc_filter) and viewer["value"] == new_id and box is None
    assert "added" in progress


def test_uploads_are_per_browser_and_never_replace_shared_files(
        docs_ctl: DocumentsController, library: Library, tmp_path: Path, fake: FakeAssistant) -> None:
    """Issue 14 item 9: one visitor's upload changes nothing for another, nor the article."""
    _upload(docs_ctl, tmp_path, "article.txt", b"Alice's own article says Rome.", owner=ALICE)
    assert fake.docs["article.txt"].text == TEXT  # the shared article is untouched
    mine = upload_id(ALICE, "article.txt")
    assert mine in library.visible(ALICE) and mine not in library.visible(BOB)
    assert library.scope(BOB, None) == ["article.txt"]  # Bob's questions never see Alice's file
    assert library.scope(BOB, [mine]) == ["article.txt"]  # not even when he names it
    assert library.scope(ALICE, [mine]) == [mine]
    assert "tram" not in docs_ctl.lists(BOB)[0] and display_name(mine) == "article.txt"
    labels = [label for label, _id in docs_ctl.lists(ALICE)[1]["choices"]]
    assert labels == ["article", "article (your upload)"]  # same name, told apart


def test_privacy_scope_is_not_announced_as_a_filter(ctl: ChatController, fake: FakeAssistant) -> None:
    """Bob set no filter: a refusal must not tell him a filter is on (nor count Alice's files)."""
    fake.docs[upload_id(ALICE, "n.txt")] = _doc(upload_id(ALICE, "n.txt"))
    note = " (The document filter is on: only article.txt was searched, not all 2 documents; clear it.)"
    fake.ask = lambda q, h, **kw: Answer(text="The documents do not say." + note, refused=True)  # type: ignore
    remembered = _run(ctl, "Why?", [], [], owner=BOB)[-1][1]  # the history keeps the plain answer text
    assert remembered[-1]["content"] == "The documents do not say."
    chosen = _run(ctl, "Why?", [], [], owner=BOB, doc_filter=["article.txt"])[-1][1]
    assert "filter is on" in chosen[-1]["content"]  # a filter Bob set himself is still announced


def test_scope_is_no_filter_when_a_browser_sees_everything(library: Library) -> None:
    assert library.scope(ALICE, None) is None  # answers exactly as ask() without a filter


def test_delete_own_upload_but_not_the_shared_corpus(docs_ctl: DocumentsController, tmp_path: Path,
                                                     fake: FakeAssistant) -> None:
    _upload(docs_ctl, tmp_path, "notes.txt", b"Quillford hosts a festival.")
    mine = upload_id(ALICE, "notes.txt")
    assert "delete" in docs_ctl.lists(ALICE)[0] and "dq-doc-delete" in docs_ctl.lists(ALICE)[0]
    assert "not indexed" in docs_ctl.act(f"delete:{mine}", BOB, [])[0]  # Bob cannot, nor see it
    assert mine in fake.docs
    status, _docs_list, doc_filter, viewer = docs_ctl.act(f"delete:{mine}", ALICE, [mine], mine)
    assert mine not in fake.docs and "deleted notes.txt" in status
    assert mine not in _choices(doc_filter) and doc_filter["value"] == [] and viewer["value"] == "article.txt"
    status = docs_ctl.act("delete:article.txt", ALICE, [])[0]
    assert "read-only" in status and "article.txt" in fake.docs


def test_admin_setting_makes_the_shared_corpus_writable(fake: FakeAssistant, tmp_path: Path) -> None:
    fake.settings = replace(fake.settings, ui_corpus_writable=True)
    library = Library(fake, FakeIngestor(fake))
    docs = DocumentsController(library)
    _upload(docs, tmp_path, "extra.txt", b"Shared news for everyone.")
    assert "extra.txt" in library.visible(BOB)
    assert "deleted article.txt" in docs.act("delete:article.txt", ALICE, [])[0]


def test_admin_can_reindex_a_shared_document_from_its_file(fake: FakeAssistant, tmp_path: Path) -> None:
    source = tmp_path / "article.txt"
    source.write_text(TEXT, encoding="utf-8")
    fake.docs["article.txt"] = replace(fake.docs["article.txt"], source=str(source))
    admin_fake = replace(fake, settings=replace(fake.settings, ui_corpus_writable=True))
    admin = DocumentsController(Library(admin_fake, FakeIngestor(admin_fake)))
    assert "Re-index" in admin.lists(ALICE)[0]
    assert "article.txt: unchanged" in admin.act("reindex:article.txt", ALICE, [])[0]
    visitor = DocumentsController(Library(fake, FakeIngestor(fake)))
    assert "Re-index" not in visitor.lists(ALICE)[0]
    assert "cannot be re-indexed" in visitor.act("reindex:article.txt", ALICE, [])[0]


def test_uploads_go_when_the_browser_is_gone(library: Library, fake: FakeAssistant) -> None:
    library.grace_s = 0.05
    fake.docs[upload_id(ALICE, "n.txt")] = _doc(upload_id(ALICE, "n.txt"))
    library.attach("tab1", ALICE)
    library.attach("tab2", ALICE)
    library.detach("tab1")
    time.sleep(0.15)
    assert upload_id(ALICE, "n.txt") in fake.docs  # another tab of that browser is still open
    library.detach("tab2")
    library.attach("tab3", ALICE)  # a reload comes back within the grace period
    time.sleep(0.15)
    assert upload_id(ALICE, "n.txt") in fake.docs
    library.detach("tab3")
    time.sleep(0.3)
    assert upload_id(ALICE, "n.txt") not in fake.docs and "article.txt" in fake.docs


def test_uploads_left_from_an_earlier_run_are_removed_at_start(library: Library, fake: FakeAssistant) -> None:
    fake.docs[upload_id(BOB, "old.txt")] = _doc(upload_id(BOB, "old.txt"))
    assert library.purge_orphans() == 1 and list(fake.docs) == ["article.txt"]


# -- upload progress and problems ------------------------------------------------------------------

def test_upload_progress_is_one_moving_line_per_file(docs_ctl: DocumentsController, tmp_path: Path) -> None:
    """Issue 14 item 4: one display per file whose numbers move (texts embedded / total)."""
    docs_ctl.library.ingestor.step_s = 0.3  # slow enough for the page to see each step
    steps = _upload(docs_ctl, tmp_path, "long.txt", b"Some text. More text.")
    shown = [s[0] for s in steps]
    embedding = [h for h in shown if "embedding" in h]
    assert len({h for h in embedding}) >= 2  # it moved
    assert all(h.count("<li") == 1 for h in shown)  # one line for one file, never stacked
    assert "dq-prog-done" in shown[-1] and "added — 2 sentences" in shown[-1] and "<progress" in embedding[0]


def test_cancel_stops_indexing_before_anything_is_written(docs_ctl: DocumentsController, tmp_path: Path,
                                                          fake: FakeAssistant) -> None:
    docs_ctl.library.ingestor.step_s = 0.2
    path = tmp_path / "big.txt"
    path.write_bytes(b"Some text. More text.")
    gen = docs_ctl.upload([str(path)], ALICE, [])
    next(gen)
    assert "cancelled — nothing was indexed" in docs_ctl.cancel(ALICE)  # said at once, on the page
    last = list(gen)[-1]
    assert "cancelled" in last[0] and upload_id(ALICE, "big.txt") not in fake.docs and fake.reloads == 0


def test_upload_problems_are_named_and_never_reach_the_index(docs_ctl: DocumentsController, tmp_path: Path,
                                                             fake: FakeAssistant) -> None:
    files = {"photo.png": b"\x89PNG", "empty.txt": b"", "big.txt": b"x" * 20_000, "broken.md": b"bad"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    status = list(docs_ctl.upload([str(tmp_path / n) for n in files], ALICE, []))[-1][0]
    assert "unsupported file type .png" in status and "is empty" in status
    assert "over the" in status and "has no sentences to index" in status
    assert list(fake.docs) == ["article.txt"] and fake.reloads == 0


# -- copy, export, new chat, reload ----------------------------------------------------------------

def test_copy_text_is_markdown_with_sources(ctl: ChatController) -> None:
    """Issue 14 item 3: copy gives the answer and its sources, not the chat's HTML."""
    html = _run(ctl, "Where?", [], [])[-1][0][-1]["content"]
    assert 'href="#dq-copy"' in html and '<pre class="dq-plain" hidden>' in html
    plain = html.split('<pre class="dq-plain" hidden>')[1].split("</pre>")[0]
    assert "<" not in plain.replace("&lt;", "")  # no markup, only escaped text
    assert "Sources:&#10;[1] article, sentence 1, chars 0–33" in plain and "\n" not in plain


def test_export_gives_markdown_and_a_printable_page(ctl: ChatController) -> None:
    answers = _run(ctl, "Where did they meet?", [], [])[-1][2]
    update = ctl.export(answers, ALICE)
    md, page = (Path(p) for p in update["value"])
    text = md.read_text(encoding="utf-8")
    assert "## 1. Where did they meet?" in text and "Sources:" in text and TEXT[:33] in text
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<script" not in html and "Sources" in html


def test_new_chat_forgets_the_conversation(ctl: ChatController) -> None:
    chat, history, answers, saved, viewer, _panel, files = ctl.new_chat(ALICE)
    assert chat == [] and history == [] and answers == {} and session.load(saved)[1:] == ([], [], {})
    assert files["visible"] is False and viewer["value"] == "article.txt"


def test_stored_conversation_round_trips_and_bad_storage_is_ignored(ctl: ChatController) -> None:
    first = _run(ctl, "Where?", [], [])[-1]
    final = _run(ctl, "And when?", _as_gradio(first[0]), first[1], first[2])[-1]
    assert [m["content"] for m in final[0][:2]] == [m["content"] for m in first[0]]  # plain strings again
    saved = final[5]
    owner, chat, history, answers = session.load(saved)
    assert owner == ALICE and chat == final[0] and history == final[1]
    assert len(chat) == 4 and sorted(answers) == [1, 3]
    assert answers[1].citations[0] == final[2][1].citations[0]
    for bad in (None, "x", {"owner": "../../etc", "chat": "no", "answers": {"9": {}, "x": 1}}):
        assert session.load(bad)[0] == "" and session.load(bad)[3] == {}
