"""The web chat tried as an attacker would (issue 23), against live servers on loopback.

Each case is something that did not hold before: a forwarding header choosing the address the
login throttle counts by, raw uploads and exports piling up, upload quotas, a ``javascript:``
link leaving a stray ")", and (expected to fail until the answerer is changed) an injected
document sentence cited as a second source. The servers run the product's own app and launch
options over fakes of the index, with a grace period of about a second, so the whole file
stays well under a minute; every request goes to 127.0.0.1 (the network block is on).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_ui_handlers import FakeAssistant, FakeIngestor

from assistant.core.settings import PROJECT_ROOT, Settings
from ui.files import EXPORTS, MARKER, FileKeeper, discarding, prepare_upload_dir, remove_legacy_exports
from ui.proxies import UVICORN_TRUST_VAR, apply_proxy_trust, parse_trusted_proxies
from ui.reader import view
from ui.server import server_options

GRACE_S = 1.0
WAIT_S = 8.0  # the longest a test waits for the sweep (it runs every GRACE_S / 4)
OWNER = "0123456789abcdef"
INJECTION_DOC = PROJECT_ROOT / "tests" / "data" / "injection_doc.txt"
HEADERS = {  # the three ways a client may claim another address
    "X-Forwarded-For": "203.0.113.{i}",
    "X-Real-IP": "203.0.113.{i}",
    "Forwarded": "for=203.0.113.{i};proto=http",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _left(folder: Path) -> list[Path]:
    """Files in the upload folder besides its marker."""
    return [p for p in folder.rglob("*") if p.is_file() and p.name != MARKER]


def _until(check: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.fixture
def launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[str, Any]]]:
    """Start the product's web chat (fakes for the index) with ``Settings`` changes; returns
    (base URL, app). Every server and timer is stopped at the end of the test."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", "set-by-prepare_upload_dir")
    monkeypatch.delenv(UVICORN_TRUST_VAR, raising=False)  # server_options sets it; restored after
    started: list[Any] = []

    def start(auth: tuple[str, str] | None = None, **changes: Any) -> tuple[str, Any]:
        from ui.app import build_app
        from ui.style import launch_options

        folder = prepare_upload_dir(tmp_path / f"uploads{len(started)}")
        base = {"max_file_bytes": 200_000, "ui_file_grace_s": GRACE_S, "login_max_failures": 3,
                "login_lockout_s": 30.0}
        settings = replace(Settings(), upload_dir=folder, **{**base, **changes})
        fake = FakeAssistant(settings=settings)
        files = FileKeeper.from_settings(settings)
        app = build_app(fake, FakeIngestor(fake), files=files).queue()
        port = _free_port()
        app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                   auth=auth, **launch_options(), **server_options(settings, files))
        started.append(app)
        return f"http://127.0.0.1:{port}", app

    yield start
    for app in started:
        app.close()
        app.library.close()


def _post(client: httpx.Client, name: str, body: bytes) -> httpx.Response:
    """A raw upload, as a script would send it (no page, no upload event)."""
    return client.post("/gradio_api/upload", files={"files": (name, body, "text/plain")})


def _wrong(client: httpx.Client, headers: dict[str, str] | None = None, password: str = "guess") -> int:
    return client.post("/login", data={"username": "ann", "password": password}, headers=headers).status_code


# -- 1. the login throttle and forwarding headers ---------------------------------------------------
def test_no_forwarding_header_escapes_the_login_throttle(launch: Callable[..., tuple[str, Any]]) -> None:
    """Six wrong passwords, then each header with a fresh address per try: still 429, and the
    right password under a new claimed address does not log in while the real one is locked."""
    url, _app = launch(auth=("ann", "right"))
    with httpx.Client(base_url=url, timeout=30) as client:
        assert [_wrong(client) for _ in range(4)] == [400, 400, 400, 429]
        for n, (header, value) in enumerate(HEADERS.items()):
            codes = [_wrong(client, {header: value.format(i=10 * n + i)}) for i in range(3)]
            assert codes == [429, 429, 429], header
            right = _wrong(client, {header: value.format(i=99)}, password="right")
            assert right == 429, f"{header} logged in while the address was locked out"


def test_a_trusted_proxy_names_its_clients_and_only_by_x_forwarded_for(
        launch: Callable[..., tuple[str, Any]]) -> None:
    """With ASSISTANT_TRUSTED_PROXIES=127.0.0.1 (a proxy on this machine), each X-Forwarded-For
    client is throttled on its own; X-Real-IP and Forwarded still choose nothing."""
    url, _app = launch(auth=("ann", "right"), trusted_proxies="127.0.0.1")
    mallory, alice = {"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "198.51.100.8"}
    with httpx.Client(base_url=url, timeout=30) as client:
        assert [_wrong(client, mallory) for _ in range(4)] == [400, 400, 400, 429]
        assert _wrong(client, {**mallory, "X-Real-IP": "198.51.100.9"}, "right") == 429
        assert _wrong(client, {**mallory, "Forwarded": "for=198.51.100.9"}, "right") == 429
        assert _wrong(client, alice, password="right") == 200  # another client behind the proxy
        # the proxy's own address (no header) was never locked out either
        assert _wrong(client, password="right") == 200


def test_trusted_proxies_setting_is_checked_and_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UVICORN_TRUST_VAR, raising=False)
    assert Settings().trusted_proxies == ""
    assert apply_proxy_trust(Settings()) == "" and os.environ[UVICORN_TRUST_VAR] == ""  # trust nobody
    assert parse_trusted_proxies(" 127.0.0.1, 10.0.0.0/8 ,::1") == ["127.0.0.1", "10.0.0.0/8", "::1"]
    for bad in ("*", "localhost", "10.0.0.300", "127.0.0.1;10.0.0.1"):
        with pytest.raises(ValueError, match="ASSISTANT_TRUSTED_PROXIES"):
            parse_trusted_proxies(bad)
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "127.0.0.1")
    assert Settings.from_env().trusted_proxies == "127.0.0.1"


# -- 2, 3. raw uploads and exports: nothing left after the grace period ------------------------------
def _export(app: Any) -> list[str]:
    """Press "Export conversation" the way Gradio runs the event (postprocessing included)."""
    from gradio.state_holder import SessionState

    fn = next(f for f in app.fns.values() if getattr(f.fn, "__name__", "") == "export")
    out = asyncio.run(app.process_api(block_fn=fn, inputs=[{}, OWNER], state=SessionState(app)))
    return [item["path"] for item in out["data"][0]["value"]]


def test_raw_uploads_and_exports_are_gone_after_the_grace_period(launch: Callable[..., tuple[str, Any]]
                                                                  ) -> None:
    """50 raw posts of 150 kB and two exports: stored in the upload folder (exports too), still
    downloadable at first, and nothing left once the grace period has passed. Each file is
    checked as soon as it is written: the sweep may already take the first ones meanwhile."""
    url, app = launch(ui_file_grace_s=2.0)
    folder = app.files.folder
    temp = Path(tempfile.gettempdir())
    legacy_before = set(temp.glob("docqa-export-*"))
    with httpx.Client(base_url=url, timeout=30) as client:
        stored = []
        for i in range(50):
            r = _post(client, f"f{i}.txt", os.urandom(150_000))
            assert r.status_code == 200 and Path(r.json()[0]).is_file()
            stored += r.json()
        assert all(folder in Path(p).parents for p in stored)
        exported = _export(app)
        got = client.get(f"/gradio_api/file={exported[0]}")
        assert got.status_code == 200 and b"DocQA conversation" in got.content  # downloadable at first
        exported += _export(app)
        assert len(exported) == 4 and all(Path(p).is_file() for p in exported)
        assert all(folder / EXPORTS in Path(p).parents for p in exported)  # never outside the folder
        assert set(temp.glob("docqa-export-*")) == legacy_before
        assert _until(lambda: not _left(folder)), [str(p) for p in _left(folder)]
        assert client.get(f"/gradio_api/file={stored[0]}").status_code in (403, 404)
        assert client.get(f"/gradio_api/file={exported[0]}").status_code in (403, 404)


def _index(app: Any, stored: str) -> None:
    """Run the Documents tab's upload event on a stored upload, as Gradio runs it, to its end."""
    from gradio.state_holder import SessionState

    fn = next(f for f in app.fns.values() if getattr(f.fn, "__name__", "") == "upload")
    upload = {"path": stored, "orig_name": Path(stored).name, "meta": {"_type": "gradio.FileData"}}
    inputs = [[upload], OWNER, []]

    async def run() -> None:
        state, iterator = SessionState(app), None
        for _ in range(1000):
            out = await app.process_api(block_fn=fn, inputs=inputs, state=state, iterator=iterator)
            iterator = out.get("iterator")
            if iterator is None or out.get("is_generating") is False:
                return

    asyncio.run(run())


def test_an_upload_the_documents_tab_indexed_is_deleted_at_once(launch: Callable[..., tuple[str, Any]]
                                                                  ) -> None:
    """The page's own path: posted, then indexed by the upload event; gone with no sweep, and
    the client's quota is free again (a grace period of an hour rules the sweep out)."""
    url, app = launch(ui_file_grace_s=3600.0)
    with httpx.Client(base_url=url, timeout=30) as client:
        stored = _post(client, "notes.txt", b"Leaders met in Rome. They agreed on troops.").json()[0]
    assert Path(stored).exists() and app.files.client_usage("127.0.0.1")[0] == 1
    _index(app, stored)
    assert any(d.endswith("/notes.txt") for d in app.library.assistant.docs)
    assert not Path(stored).exists() and app.files.client_usage("127.0.0.1") == (0, 0)


def test_an_indexed_upload_goes_at_once_and_is_never_swept_while_indexed(tmp_path: Path) -> None:
    """The Documents tab's event holds its files from the sweep, and deletes them when done."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / MARKER).touch()
    keeper = FileKeeper(folder, grace_s=0.0)
    upload = folder / "a1b2" / "notes.txt"
    upload.parent.mkdir()
    upload.write_text("x")

    def index(files: list[str]) -> Iterator[str]:
        keeper.sweep(now=time.time() + 3600)  # long past the grace period, mid-indexing
        assert Path(files[0]).exists()
        yield "done"

    assert list(discarding(index, keeper)([str(upload)])) == ["done"]
    assert not upload.exists() and not upload.parent.exists()


def test_exports_are_owned_by_a_browser_and_the_oldest_go(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    keeper = FileKeeper(folder)
    made = []
    for _ in range(5):
        made.append(keeper.export_dir(OWNER))
        (made[-1] / "conversation.md").write_text("x")
        time.sleep(0.01)
    kept = sorted(p.name for p in (folder / EXPORTS / OWNER).iterdir())
    assert kept == sorted(p.name for p in made[-3:])
    for hostile in ("../../etc", "", "a/b", "."):
        assert keeper.export_dir(hostile).parent == folder.resolve() / EXPORTS / "anonymous"


def test_start_up_removes_export_folders_an_earlier_version_left(tmp_path: Path) -> None:
    old, fresh = tmp_path / "docqa-export-old", tmp_path / "docqa-export-new"
    for d in (old, fresh):
        d.mkdir()
        (d / "conversation.md").write_text("x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert remove_legacy_exports(tmp_path) == 1
    assert not old.exists() and fresh.exists()  # another server of the old code may serve it now


def test_sweep_never_touches_a_folder_that_is_not_ours(tmp_path: Path) -> None:
    theirs = tmp_path / "data"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    FileKeeper(theirs, grace_s=0.0).sweep(now=time.time() + 3600)
    assert (theirs / "keep.txt").exists()


# -- quotas -----------------------------------------------------------------------------------------
def test_upload_quotas_per_client_and_for_the_server(launch: Callable[..., tuple[str, Any]]) -> None:
    url, app = launch(ui_client_quota_bytes=400_000, ui_upload_quota_bytes=10_000_000,
                      ui_file_grace_s=3600.0)  # no sweep unless the test runs one
    body = os.urandom(150_000)
    with httpx.Client(base_url=url, timeout=30) as client:
        codes = [_post(client, f"f{i}.txt", body).status_code for i in range(4)]
        assert codes == [200, 200, 429, 429]
        refused = _post(client, "g.txt", body)
        assert "Upload quota reached" in refused.json()["detail"] and int(refused.headers["retry-after"]) >= 1
        # a body with no Content-Length (under the file size limit) is counted as it arrives
        # and cut where it outgrows the 100 kB left
        def chunks() -> Iterator[bytes]:
            yield b'--x\r\nContent-Disposition: form-data; name="files"; filename="c.txt"\r\n\r\n'
            for _ in range(6):
                yield b"y" * 25_000
            yield b"\r\n--x--\r\n"

        cut = client.post("/gradio_api/upload", content=chunks(),
                          headers={"content-type": "multipart/form-data; boundary=x"})
        assert cut.status_code == 429 and "Upload quota reached" in cut.json()["detail"]
        assert len([p for p in _left(app.files.folder) if p.suffix == ".txt"]) == 2
        # the sweep frees the quota
        app.files.sweep(now=time.time() + 7200)
        assert not _left(app.files.folder)
        assert _post(client, "h.txt", body).status_code == 200


def test_parallel_uploads_share_one_quota(launch: Callable[..., tuple[str, Any]]) -> None:
    """Two uploads at once from one client cannot each use the whole room: the second is
    refused while the first (slow, no Content-Length) is still arriving."""
    import threading

    url, app = launch(ui_client_quota_bytes=240_000, ui_file_grace_s=3600.0)
    half_sent, results = threading.Event(), {}

    def slow() -> Iterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="files"; filename="slow.txt"\r\n\r\n'
        yield b"s" * 100_000
        half_sent.set()
        time.sleep(1.5)
        yield b"s" * 50_000 + b"\r\n--x--\r\n"

    def first() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            results["slow"] = client.post("/gradio_api/upload", content=slow(),
                                          headers={"content-type": "multipart/form-data; boundary=x"})

    thread = threading.Thread(target=first)
    thread.start()
    assert half_sent.wait(10)
    time.sleep(0.3)  # let the server read that part
    with httpx.Client(base_url=url, timeout=30) as client:
        second = _post(client, "fast.txt", b"f" * 150_000)
    thread.join(30)
    assert second.status_code == 429 and results["slow"].status_code == 200
    assert [p.name for p in _left(app.files.folder)] == ["slow.txt"]


def test_many_tiny_uploads_hit_the_file_count_quota(tmp_path: Path) -> None:
    """Bytes alone do not bound a client that posts empty files by the thousand."""
    from ui.files import MAX_CLIENT_FILES

    (tmp_path / "uploads").mkdir()
    keeper = FileKeeper(tmp_path / "uploads")
    tiny = []
    for i in range(MAX_CLIENT_FILES):
        path = keeper.folder / f"h{i}" / "empty.txt"
        path.parent.mkdir()
        path.touch()
        tiny.append(str(path))
    keeper.record_uploads("192.0.2.1", tiny)
    refusal = keeper.refusal("192.0.2.1", 0)
    assert refusal is not None and refusal[0] == 429
    assert keeper.refusal("192.0.2.2", 0) is None  # another client is not held back


def test_the_server_refuses_uploads_when_its_folder_is_full(launch: Callable[..., tuple[str, Any]]) -> None:
    url, _app = launch(ui_upload_quota_bytes=200_000, ui_file_grace_s=3600.0)
    with httpx.Client(base_url=url, timeout=30) as client:
        first, second = _post(client, "a.txt", b"x" * 150_000), _post(client, "b.txt", b"x" * 150_000)
    assert first.status_code == 200 and second.status_code == 507


def test_an_upload_cannot_name_a_path_outside_the_folder(launch: Callable[..., tuple[str, Any]]) -> None:
    url, app = launch()
    with httpx.Client(base_url=url, timeout=30) as client:
        r = _post(client, "../../../evil.txt", b"x")
        assert r.status_code in (200, 400)
        if r.status_code == 200:
            assert app.files.folder in Path(r.json()[0]).resolve().parents
        assert client.get("/gradio_api/file=/etc/passwd").status_code in (403, 404)
    assert not (app.files.folder.parent.parent / "evil.txt").exists()


# -- 5. Markdown links with a javascript: URL -------------------------------------------------------
@pytest.mark.parametrize("text, shown", [
    ("See [the docs](javascript:alert(1)) now.", "See the docs now."),
    ("An image ![logo](javascript:alert(document.cookie)) here.", "An image logo here."),
    ("[a](<javascript:alert(1)>) x", "a x"),
    ('A [link](http://x.y/a_(b) "title") end.', "A link end."),
    ("Not a link [b](c(d) e", "Not a link [b](c(d) e"),
])
def test_a_link_with_parentheses_in_its_url_leaves_no_stray_parenthesis(text: str, shown: str) -> None:
    assert view(text, 0, len(text), markdown=True) == shown


def test_a_javascript_link_in_a_cited_markdown_sentence_is_plain_text() -> None:
    from assistant import Answer, Citation, Document
    from ui.render import answer_html

    text = "Read [the plan](javascript:alert(1)) today."
    doc = Document("notes.md", text, "notes.md", "h", "notes")
    cite = Citation(text, "notes.md", 0, 0, len(text), 1.0)
    answer = Answer(text=f"{text} [1]", refused=False, citations=[cite], question="q")
    html = answer_html(answer, {"notes.md": doc})
    assert "javascript:" not in html.split('class="dq-plain"')[0]  # the copy text keeps the source as written
    assert "Read the plan today." in html and "plan) today" not in html


# -- 4. an injected instruction cited as a second source (answerer core: the lead's rewrite) -------
@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``tests/data/injection_doc.txt`` in a real index (spaCy entities, the fake embedder)."""
    from conftest import FakeEmbedder

    from assistant import Assistant
    from ingest.pipeline import Ingestor

    root = tmp_path_factory.mktemp("injection")
    (root / "data").mkdir()
    shutil.copy(INJECTION_DOC, root / "data" / INJECTION_DOC.name)
    settings = replace(Settings.from_env(), index_dir=root / "index", chroma_host="")
    report = Ingestor(settings, embedder=FakeEmbedder()).ingest_paths([root / "data"])
    assert not report.errors, report.errors
    return Assistant(settings, embedder=FakeEmbedder())


def test_an_injected_instruction_is_not_cited_for_an_unrelated_question(injected: Any) -> None:
    answer = injected.ask("What is the city of the summit?")
    assert not answer.refused and "Porto" in answer.text
    cited = [c.text for c in answer.citations]
    assert cited == ["The summit was in Porto."], cited
    assert "HACKED" not in answer.text

