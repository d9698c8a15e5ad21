"""``python -m ui.loadtest``: how long people wait when 1 or N of them ask at the same moment.

Starts the real chat (``python -m ui``) on a free loopback port in a child process, then plays
N simultaneous visitors, each with its own Gradio session (one ``gradio_client.Client`` each),
asking one question through the page's own ask event; the time is from submit until the whole
answer (the last streamed update) has arrived. Run it before and after a change to the queue:
it is how issue 14's "ten users wait 2.7 s" was measured.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

QUESTIONS = (
    "Where was the meeting held?",
    "How many countries agreed to send troops?",
    "How much aid did Europe give Ukraine?",
    "Who attended the meeting?",
    "What is the population of Brazil?",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    """``python -m ui`` on ``port``; waits until it accepts connections (or raises)."""
    env = {**os.environ, "ASSISTANT_PORT": str(port), "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_AUTH": ""}
    proc = subprocess.Popen([sys.executable, "-m", "ui"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"python -m ui exited with {proc.returncode}; build the index: make index")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the chat did not start on port {port} within 120 s")


def ask(client: Any, question: str, api_name: str) -> None:
    """One question as the page asks it: ``/ask`` computes, then ``/stream`` shows it (the chat
    waits for both); an older single-event page is asked through ``api_name`` alone."""
    names = [n.strip() for n in api_name.split(",")]
    out = client.predict(question, api_name=names[0])
    if len(names) > 1:
        client.predict(out[1], api_name=names[1])


def _one_round(url: str, users: int, api_name: str, clients: list[Any]) -> list[float]:
    """``users`` visitors submit at once; returns each one's seconds until the answer was complete."""
    barrier = threading.Barrier(users)
    times: list[float] = [0.0] * users

    def visitor(i: int) -> None:
        client = clients[i]
        question = QUESTIONS[i % len(QUESTIONS)]
        barrier.wait()
        t0 = time.perf_counter()
        ask(client, question, api_name)
        times[i] = time.perf_counter() - t0

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def measure(url: str, users: int, rounds: int, api_name: str) -> list[float]:
    """Latencies of ``rounds`` rounds of ``users`` simultaneous visitors (one session each)."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(users)]
    _one_round(url, users, api_name, clients)  # warm-up: first answers load caches
    out: list[float] = []
    for _ in range(rounds):
        out += _one_round(url, users, api_name, clients)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--api-name", default="/ask,/stream",
                        help="the page's ask endpoint(s), comma-separated, called in order")
    parser.add_argument("--url", default="", help="measure a running chat instead of starting one")
    args = parser.parse_args(argv)
    proc = None
    url = args.url
    if not url:
        port = _free_port()
        proc = _start_server(port)
        url = f"http://127.0.0.1:{port}/"
    try:
        for n in args.users:
            lat = measure(url, n, args.rounds, args.api_name)
            q = statistics.quantiles(lat, n=20) if len(lat) > 1 else lat * 19
            print(f"{n:>3} simultaneous user(s): p50 {statistics.median(lat):.2f} s, "
                  f"p95 {q[18]:.2f} s, max {max(lat):.2f} s ({len(lat)} answers)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
