"""The web server's limits: upload size, the upload folder, and login throttling.

Why each exists (issue 12, a campaign against the running server):
* without ``max_file_size`` Gradio accepted and stored a 50 MB upload although ingest refuses
  anything over ``MAX_FILE_BYTES`` — the limit is now enforced when the bytes arrive (HTTP 413);
* four such uploads left 201 MB in the temp folder after the server stopped — uploads now go
  to a folder of their own (``UPLOAD_DIR``), emptied at start, and each uploaded file is
  deleted once it was indexed or refused (``discarding``);
* with ``ASSISTANT_AUTH`` set, 30 wrong logins took 0.02 s — ``LoginThrottle`` now makes a
  client that failed ``LOGIN_MAX_FAILURES`` times wait ``LOGIN_LOCKOUT_S``, doubling per
  further failure. Clients are told apart by their address (a proxy in front should pass
  the real one, e.g. uvicorn's ``--forwarded-allow-ips``; the header is not trusted here).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.settings import Settings

log = logging.getLogger(__name__)

MARKER = ".docqa-uploads"  # only a folder holding this file is ever emptied
MAX_CLIENTS = 10_000  # failed-login records kept (the oldest are forgotten first)
MAX_LOCKOUT_S = 3600.0


# -- the upload folder ------------------------------------------------------------------------------
def prepare_upload_dir(folder: Path) -> Path:
    """Create (or empty) the upload folder and point Gradio at it (before Gradio starts a server).

    A folder that exists without our marker file is left as it is (it may be somebody's data);
    its old files then stay, and a warning says why.
    """
    folder = folder.resolve()
    if folder.exists() and not (folder / MARKER).exists() and any(folder.iterdir()):
        log.warning("upload folder %s is not empty and was not made by docqa: not cleaning it", folder)
    else:
        if folder.exists():
            for child in folder.iterdir():
                if child.name != MARKER:
                    _remove(child)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).touch()
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:  # a file in use: it goes at the next start
        log.warning("could not remove %s: %s", path, exc)


def discard_uploads(paths: Any, folder: Path | None = None) -> int:
    """Delete uploaded files that lie inside Gradio's upload folder (and their emptied hash
    folders); any other path is left alone. Returns how many files were deleted."""
    if folder is None:
        from gradio.utils import get_upload_folder

        folder = Path(get_upload_folder())
    root = folder.resolve()
    items = [paths] if isinstance(paths, (str, Path)) else list(paths or [])
    deleted = 0
    for item in items:
        path = Path(getattr(item, "path", item)).resolve()
        if root not in path.parents or not path.is_file():
            continue
        _remove(path)
        deleted += 1
        parent = path.parent
        if parent != root and root in parent.parents and not any(parent.iterdir()):
            _remove(parent)
    return deleted


def discarding(handler: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Wrap an upload event handler (a generator whose first argument is the uploaded files):
    the files are deleted when it ends, whether they were indexed, refused or cancelled."""

    @functools.wraps(handler)
    def wrapper(files: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from handler(files, *args, **kwargs)
        finally:
            discard_uploads(files)

    return wrapper


# -- login throttling -------------------------------------------------------------------------------
class LoginThrottle:
    """ASGI middleware: after ``max_failures`` failed ``POST .../login`` from one client, answer
    its logins with 429 for ``lockout_s`` seconds, doubling with each further failure; a
    successful login forgets the client's failures."""

    def __init__(self, app: Any, max_failures: int = 5, lockout_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.max_failures = max(1, max_failures)
        self.lockout_s = lockout_s
        self.clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # client -> (count, until)
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """Seconds ``client`` must wait before its next login attempt (0: it may try now)."""
        with self._lock:
            _count, until = self._failures.get(client, (0, 0.0))
        return max(0.0, until - self.clock())

    def record(self, client: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures.pop(client, None)
                return
            count = self._failures.pop(client, (0, 0.0))[0] + 1
            until = 0.0
            if count >= self.max_failures:
                until = self.clock() + min(MAX_LOCKOUT_S, self.lockout_s * 2 ** (count - self.max_failures))
            self._failures[client] = (count, until)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" or not _is_login(scope):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown",))[0]
        wait = self.wait_s(client)
        if wait > 0:
            await _too_many(send, wait)
            return
        status: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                status.append(int(message.get("status", 0)))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] in (200, 400, 401, 403):
            self.record(client, ok=status[0] == 200)


def _is_login(scope: dict[str, Any]) -> bool:
    return str(scope.get("path", "")).rstrip("/").endswith("/login")


async def _too_many(send: Any, wait: float) -> None:
    seconds = math.ceil(wait)
    body = json.dumps({"detail": f"Too many failed logins; try again in {seconds} s."}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# -- launch -----------------------------------------------------------------------------------------
def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: the upload limit and the login throttle."""
    from starlette.middleware import Middleware

    throttle = Middleware(LoginThrottle, max_failures=settings.login_max_failures,
                          lockout_s=settings.login_lockout_s)
    return {"max_file_size": settings.max_file_bytes, "app_kwargs": {"middleware": [throttle]}}
