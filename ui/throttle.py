"""Login throttling: a client that keeps guessing the password must wait, longer each time.

Why (issue 12): with ``ASSISTANT_AUTH`` set, 30 wrong logins took 0.02 s. ``LoginThrottle`` makes
a client that failed ``LOGIN_MAX_FAILURES`` times wait ``LOGIN_LOCKOUT_S``, doubling per further
failure. Clients are told apart by the address the server established (``ui.proxies``): the
socket's, unless ``ASSISTANT_TRUSTED_PROXIES`` names a proxy in front (issue 23: a forwarding
header from loopback used to choose the address, so every guess could come from a "new" client).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ui.proxies import client_host

MAX_CLIENTS = 10_000  # failed-login records kept (the oldest are forgotten first)
MAX_LOCKOUT_S = 3600.0


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
        """Count a failed login of ``client`` (locking it out from ``max_failures`` on), or
        forget its failures after a successful one."""
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
        client = client_host(scope)
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
    """Whether a request is Gradio's login form post (``/login``, under any root path)."""
    return str(scope.get("path", "")).rstrip("/").endswith("/login")


async def _too_many(send: Any, wait: float) -> None:
    """Answer 429 with Retry-After: the client learns how long to wait, not whether it guessed."""
    seconds = math.ceil(wait)
    body = json.dumps({"detail": f"Too many failed logins; try again in {seconds} s."}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
