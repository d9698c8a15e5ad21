"""The web server's limits (issue 12 items 14, 15): upload size, upload folder, login throttling.

Unit tests for the pieces, one live Gradio server on loopback for what only a server shows
(HTTP 413 for an oversized upload, 429 after repeated wrong logins), and ``python -m ui``'s
start-up with the launch call captured, so the real entry point is what is checked.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import ui.__main__ as ui_main
from assistant.core.settings import Settings
from ui.server import (
    MARKER,
    LoginThrottle,
    UploadGuard,
    discard_uploads,
    discarding,
    prepare_upload_dir,
    server_options,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_locks_a_client_out_after_repeated_failures_and_doubles() -> None:
    clock = Clock()
    t = LoginThrottle(app=None, max_failures=3, lockout_s=10, clock=clock)
    for _ in range(2):
        t.record("1.2.3.4", ok=False)
    assert t.wait_s("1.2.3.4") == 0
    t.record("1.2.3.4", ok=False)
    assert t.wait_s("1.2.3.4") == 10 and t.wait_s("5.6.7.8") == 0  # per client
    clock.now += 10
    t.record("1.2.3.4", ok=False)
    assert t.wait_s("1.2.3.4") == 20
    t.record("1.2.3.4", ok=True)
    assert t.wait_s("1.2.3.4") == 0


def test_upload_folder_is_emptied_at_start_only_when_it_is_ours(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", "unchanged")
    ours = tmp_path / "uploads"
    prepare_upload_dir(ours)
    (ours / "abc123").mkdir()
    (ours / "abc123" / "big.txt").write_bytes(b"x" * 1000)
    assert prepare_upload_dir(ours) == ours.resolve()
    assert sorted(p.name for p in ours.iterdir()) == [MARKER]
    assert os.environ["GRADIO_TEMP_DIR"] == str(ours.resolve())
    theirs = tmp_path / "someone-elses"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    prepare_upload_dir(theirs)
    assert (theirs / "keep.txt").read_text() == "mine"


def test_discard_deletes_only_files_in_the_upload_folder(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    (folder / "f00d").mkdir(parents=True)
    inside = folder / "f00d" / "doc.txt"
    inside.write_text("x")
    outside = tmp_path / "doc.txt"
    outside.write_text("x")
    assert discard_uploads([str(inside), str(outside), str(folder / "gone.txt")], folder) == 1
    assert not inside.exists() and not (folder / "f00d").exists() and outside.exists()


@pytest.mark.parametrize("stop_early", [False, True])
def test_discarding_handler_deletes_the_uploads_when_it_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             stop_early: bool) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    upload = tmp_path / "a1b2" / "notes.txt"
    upload.parent.mkdir()
    upload.write_text("x")

    def index(files: list[str], owner: str) -> Iterator[str]:
        assert Path(files[0]).exists()  # still there while indexing
        yield "indexing"
        yield "done"

    steps = discarding(index)([str(upload)], "owner")
    assert next(steps) == "indexing"
    if stop_early:
        steps.close()  # the visitor cancelled or closed the page
    else:
        assert list(steps) == ["done"]
    assert not upload.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A small Gradio app launched with the product's server options, login required."""
    import gradio as gr

    monkeypatch.setenv("GRADIO_TEMP_DIR", "set-below")
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)  # server_options sets it; restored after
    folder = prepare_upload_dir(tmp_path / "uploads")
    settings = replace(Settings(), max_file_bytes=1000, login_max_failures=3, login_lockout_s=30,
                       upload_dir=folder)
    with gr.Blocks(analytics_enabled=False) as app:
        gr.File(file_count="multiple", type="filepath")
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               auth=("ann", "right"), ssr_mode=False, **server_options(settings))
    try:
        yield f"http://127.0.0.1:{port}", folder
    finally:
        app.close()


def test_live_server_limits_uploads_and_throttles_logins(server: tuple[str, Path]) -> None:
    import httpx

    url, folder = server
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/login", data={"username": "ann", "password": "right"}).status_code == 200
        big = client.post("/gradio_api/upload", files={"files": ("big.txt", b"x" * 5000, "text/plain")})
        assert big.status_code == 413
        small = client.post("/gradio_api/upload", files={"files": ("small.txt", b"x" * 500, "text/plain")})
        assert small.status_code == 200
        stored = Path(small.json()[0])
        assert folder in stored.parents  # uploads land in our folder, which is emptied at start

        with httpx.Client(base_url=url, timeout=30) as stranger:
            codes = [stranger.post("/login", data={"username": "ann", "password": f"guess{i}"}).status_code
                     for i in range(6)]
            assert codes[:3] == [400, 400, 400] and codes[3:] == [429, 429, 429]
            locked = stranger.post("/login", data={"username": "ann", "password": "right"})
            assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
            assert "Too many failed logins" in locked.json()["detail"]


def test_python_m_ui_launches_with_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m ui`` passes max_file_size and the throttle, and empties the upload folder first."""
    captured: dict[str, Any] = {}

    class FakeAssistant:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings
            self.documents = {"a.txt": object()}

    class FakeApp:
        def queue(self) -> FakeApp:
            return self

        def launch(self, **kwargs: Any) -> None:
            captured.update(kwargs)

    import ingest.pipeline
    import ui.app

    folder = tmp_path / "uploads"
    prepare_upload_dir(folder)
    (folder / "leftover.txt").write_bytes(b"x" * 100)
    monkeypatch.setenv("ASSISTANT_UPLOAD_DIR", str(folder))
    monkeypatch.setenv("ASSISTANT_MAX_FILE_BYTES", "12345")
    monkeypatch.setenv("ASSISTANT_AUTH", "ann:right")
    monkeypatch.setenv("GRADIO_TEMP_DIR", "unchanged")
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    import tempfile

    legacy = tmp_path / "docqa-export-abc"  # an export folder of an earlier version
    legacy.mkdir()
    os.utime(legacy, (1.0, 1.0))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(ui_main, "Assistant", FakeAssistant)
    monkeypatch.setattr(ingest.pipeline, "Ingestor", lambda settings: object())
    monkeypatch.setattr(ui.app, "build_app", lambda assistant, ingestor, **kw: FakeApp())
    assert ui_main.main() == 0
    assert captured["max_file_size"] == 12345 and captured["auth"] == ("ann", "right")
    middleware = captured["app_kwargs"]["middleware"]
    assert [m.cls for m in middleware] == [LoginThrottle, UploadGuard]
    assert not (folder / "leftover.txt").exists() and not legacy.exists()
