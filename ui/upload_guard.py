"""ASGI middleware on Gradio's upload route: quotas before the bytes land, owners after.

Why (issue 23): anyone who can reach the server can post files to ``/gradio_api/upload``
without ever triggering the Documents tab's event, and Gradio keeps each one. Gradio's
``max_file_size`` bounds one file, not how many. This guard refuses an upload that would take
the client (or the whole folder) over its quota — from the announced Content-Length before a
byte is read, and by counting the body when there is none — and records which client posted
which stored files, so the quota frees up as indexing or the sweep deletes them
(``ui/files.py``). Clients are told apart as the login throttle does (``ui/proxies.py``).
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from ui.files import FileKeeper
from ui.proxies import client_host

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1_000_000  # the upload route answers with a JSON list of stored paths


def is_upload(scope: dict[str, Any]) -> bool:
    """Whether a request posts files to Gradio's upload route (under any root path)."""
    return (scope.get("type") == "http" and scope.get("method") == "POST"
            and str(scope.get("path", "")).rstrip("/").endswith("/upload"))


def _content_length(scope: dict[str, Any]) -> int:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return 0
    return 0


class UploadGuard:
    """Enforce ``keeper``'s quotas on uploads and tell it who posted each stored file."""

    def __init__(self, app: Any, keeper: FileKeeper) -> None:
        self.app = app
        self.keeper = keeper

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not is_upload(scope):
            await self.app(scope, receive, send)
            return
        client = client_host(scope)
        refusal = self.keeper.refusal(client, _content_length(scope))
        if refusal is not None:
            await _refuse(send, *refusal, retry_s=self.keeper.grace_s)
            return
        own_room, total_room = self.keeper.limits(client)
        received = 0
        over = False
        started = False
        status = 0
        body = bytearray()

        async def counting() -> dict[str, Any]:
            """Pass the body on, counted with the client's other uploads arriving; end it as a
            disconnect once they outgrow the room (the client's, or the server's)."""
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                size = len(message.get("body", b""))
                received += size
                mine, everyone = self.keeper.arriving(client, size)
                if mine > own_room or everyone > total_room:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watch(message: dict[str, Any]) -> None:
            """Note the status and the stored paths; hold back Gradio's answer to a cut body."""
            nonlocal started, status
            if over:
                return
            if message.get("type") == "http.response.start":
                started, status = True, int(message.get("status", 0))
            elif message.get("type") == "http.response.body" and len(body) < MAX_RESPONSE_BYTES:
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting, watch)
        except Exception:
            if not over:
                raise
            # the parser saw the body end early; its partial temp files go with the sweep
        finally:
            self.keeper.arriving(client, -received)  # now on disk (counted there) or refused
        if over:
            if not started:
                refusal = self.keeper.refusal(client, received) or (429, "Upload quota reached.")
                await _refuse(send, *refusal, retry_s=self.keeper.grace_s)
            return
        if status == 200:
            self.keeper.record_uploads(client, _stored_paths(bytes(body)))


def _stored_paths(body: bytes) -> list[str]:
    """The paths Gradio answered with ([] if the answer is not the expected JSON list)."""
    try:
        data = json.loads(body or b"[]")
    except ValueError:
        return []
    return [p for p in data if isinstance(p, str)] if isinstance(data, list) else []


async def _refuse(send: Any, status: int, message: str, retry_s: float = 60.0) -> None:
    """A short JSON refusal; 429 also says when to retry (files expire after the grace period)."""
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 429:
        headers.append((b"retry-after", str(max(1, math.ceil(min(retry_s, 3600.0)))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
