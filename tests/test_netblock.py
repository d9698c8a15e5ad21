"""Child processes of the tests are offline too (issue 12 item 16), not only the test process.

The CLI and web-server tests start real interpreters; before, nothing stopped those from
connecting out. ``tests/netblock/sitecustomize.py`` (activated by ``tests/conftest.py``) must
refuse a non-loopback connection and a DNS lookup in any child, let loopback through, and
record each attempt so a child that swallows the error still fails the session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from assistant.core.settings import PROJECT_ROOT

PROBE = """
import socket, sys
what = sys.argv[1]
try:
    if what == "connect":
        s = socket.socket(); s.settimeout(2); s.connect(("192.0.2.1", 80))
    elif what == "dns":
        socket.getaddrinfo("example.com", 443)
    elif what == "udp":
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.51.100.7", 53))
    elif what == "loopback":
        s = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5); s.close()
    print("ok")
except PermissionError as exc:
    print("blocked:", exc)
except OSError as exc:
    print("unblocked:", type(exc).__name__)
"""


def _child(tmp_path: Path, *args: str) -> tuple[str, str]:
    """Run the probe in a fresh interpreter with the session's environment; (stdout, attempts)."""
    log = tmp_path / f"attempts-{args[0]}.log"
    env = {**os.environ, "DOCQA_NETWORK_LOG": str(log)}  # its own log: these attempts are on purpose
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                         cwd=PROJECT_ROOT, timeout=60).stdout.strip()
    return out, log.read_text(encoding="utf-8") if log.exists() else ""


def test_child_processes_cannot_connect_out(tmp_path: Path) -> None:
    for what, target in (("connect", "192.0.2.1"), ("dns", "example.com"), ("udp", "198.51.100.7")):
        out, attempts = _child(tmp_path, what)
        assert out.startswith("blocked:") and "network access blocked in tests" in out, (what, out)
        assert target in attempts


def test_child_processes_may_use_loopback(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    try:
        out, attempts = _child(tmp_path, "loopback", str(server.getsockname()[1]))
    finally:
        server.close()
    assert out == "ok" and attempts == ""


def test_the_cli_runs_under_the_block() -> None:
    """The real CLI subprocess starts with the hook installed (and so could not leak)."""
    code = "import sys, assistant.__main__; print(any('sitecustomize' in m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                         timeout=120).stdout.strip()
    assert out == "True"
