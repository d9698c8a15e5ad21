"""A loopback OpenAI-compatible server that misbehaves on cue, for the LLM client's tests.

It streams like the real ones (``text/event-stream`` in HTTP/1.1 chunks, as uvicorn sends
llama.cpp's, vLLM's and Ollama's), so a connection cut in the middle is seen by the client as
it is in production: an incomplete chunked body. Each request takes the next ``Plan``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Plan:
    """How to answer one request: an HTTP ``status`` (not 200: an error body), else ``parts``
    streamed one event each; ``stall_s`` of silence first; ``die`` cuts the connection after
    the parts instead of ending the stream."""

    parts: list[str] = field(default_factory=list)
    status: int = 200
    stall_s: float = 0.0
    die: bool = False


class FakeLLMServer:
    """``url`` to point ``ASSISTANT_LLM_BASE_URL`` at; ``plans`` to script; ``requests`` seen."""

    def __init__(self, plans: list[Plan] | None = None) -> None:
        self.plans = list(plans or [])
        self.requests: list[dict[str, Any]] = []
        self.url = ""

    def _next(self) -> Plan:
        return self.plans.pop(0) if self.plans else Plan(["The documents do not say."])

    @contextmanager
    def running(self) -> Iterator[FakeLLMServer]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body, "host": self.headers.get("Host")})
                plan = fake._next()
                time.sleep(plan.stall_s)
                if plan.status != 200:
                    error = {"message": "scripted failure", "code": plan.status}
                    self._send_json(plan.status, {"error": error})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for text in plan.parts:
                    self._chunk(_event(body.get("model", ""), text))
                if plan.die:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

            def handle(self) -> None:
                with contextlib.suppress(OSError):  # the connection this handler cut on purpose
                    super().handle()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def _event(model: str, text: str) -> bytes:
    delta = {"role": "assistant", "content": text}
    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


@contextmanager
def recording_proxy() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP proxy that records the request lines it gets and answers 502."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_error(502, "recording proxy: not forwarding")

        do_GET = do_POST = do_CONNECT = _record

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
