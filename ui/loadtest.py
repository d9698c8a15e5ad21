"""``python -m ui.loadtest``: how long people wait when 1 or N of them ask at the same moment.

Starts the real chat (``python -m ui``) on a free loopback port in a child process, then plays
N simultaneous visitors, each with its own Gradio session, asking one question through the
page's own ask event; the time is from submit until the whole answer (the last streamed
update) has arrived. Run it before and after a change to the queue:
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
import uuid
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


class Visitor:
    """One browser session speaking Gradio's queue protocol directly, as the page does:
    ``/ask`` (empties the box, keeps the question), then ``/answer`` (computes and streams),
    reading each event stream until the event completes.

    ``gradio_client`` was not used on purpose: on a 2-core machine its threads cost ~140 ms of
    CPU per answer, more than the server, and the measurement would mostly time the client.
    """

    def __init__(self, url: str, api_names: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=url.rstrip("/") + "/gradio_api", timeout=120)
        config = httpx.get(url.rstrip("/") + "/config", timeout=30).json()
        props = {c["id"]: c.get("props", {}) for c in config["components"]}
        self.steps: list[tuple[int, list[Any], bool]] = []
        for name in api_names.split(","):
            deps = [d for d in config["dependencies"] if d.get("api_name") == name.strip().lstrip("/")]
            if not deps:
                raise SystemExit(f"the page has no event named {name!r}")
            values = [props.get(i, {}).get("value") for i in deps[0]["inputs"]]
            self.steps.append((deps[0]["id"], values, deps[0].get("queue") is not False))
        self.session = uuid.uuid4().hex[:11]

    def _run(self, fn_index: int, data: list[Any], queued: bool) -> None:
        body = {"data": data, "fn_index": fn_index, "session_hash": self.session, "event_data": None}
        if not queued:  # the page posts these directly, outside the queue
            self.http.post("/run/predict", json=body).raise_for_status()
            return
        self.http.post("/queue/join", json=body).raise_for_status()
        with self.http.stream("GET", "/queue/data", params={"session_hash": self.session}) as events:
            for line in events.iter_lines():
                if line.startswith("data:") and '"process_completed"' in line:
                    if '"success":true' not in line.replace(" ", ""):
                        raise RuntimeError(f"the event failed: {line[:300]}")
                    return
        raise RuntimeError("the event stream ended before the event completed")

    def ask(self, question: str) -> None:
        """Submit ``question`` (the first input of the first step) and wait for the whole answer."""
        for k, (fn_index, inputs, queued) in enumerate(self.steps):
            self._run(fn_index, [question, *inputs[1:]] if k == 0 else inputs, queued)


def _one_round(visitors: list[Visitor]) -> list[float]:
    """All visitors submit at once; returns each one's seconds until its answer was complete."""
    barrier = threading.Barrier(len(visitors))
    times: list[float] = [0.0] * len(visitors)

    def run(i: int) -> None:
        barrier.wait()
        t0 = time.perf_counter()
        visitors[i].ask(QUESTIONS[i % len(QUESTIONS)])
        times[i] = time.perf_counter() - t0

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(visitors))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def measure(url: str, users: int, rounds: int, api_name: str) -> list[float]:
    """Latencies of ``rounds`` rounds of ``users`` simultaneous visitors (one session each)."""
    visitors = [Visitor(url, api_name) for _ in range(users)]
    _one_round(visitors)  # warm-up: first answers load caches
    out: list[float] = []
    for _ in range(rounds):
        out += _one_round(visitors)
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure 1 and N simultaneous users (a chat it starts, or ``--url``); prints one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--api-name", default="/ask,/answer",
                        help="the page's events for one question, in order (the old page: /respond)")
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
