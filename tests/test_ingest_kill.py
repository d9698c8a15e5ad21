"""kill -9 during a re-ingest, at every write and at random times: the index always opens,
nothing committed is lost, and running the same ingest again finishes the job.

Each kill runs in its own process over its own copy of a starting index (6 documents); the
re-ingest changes 4, keeps 2 and adds 2, in several groups. A child SIGKILLs itself just
before its Nth index write (every Chroma add/upsert/delete, the cache write, the CURRENT
switch), and a few more children are killed by this process after a random delay. One
checker process then opens each index (from the cache and from Chroma), looks for lost or
half-written documents, re-runs the ingest and checks the result and the row counts.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.core.settings import PROJECT_ROOT

DRIVER = str(PROJECT_ROOT / "tests" / "ingest_kill_driver.py")
RANDOM_KILLS = 6
MAX_WRITE_POINTS = 24  # bounds the test's time; spread evenly over every write
PARALLEL = 2


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def _driver(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, DRIVER, *args], capture_output=True, text=True, env=_env(),
                          cwd=PROJECT_ROOT, timeout=timeout)


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, DRIVER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(), cwd=PROJECT_ROOT)


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True], ids=["groups", "long-files-piece-by-piece"])
def test_kill_during_ingest_never_breaks_or_loses(tmp_path: Path, stream: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if stream:  # ingest.stream: a long document's rows arrive in several writes before its switch
        monkeypatch.setenv("DOCQA_KILL_STREAM", "1")
    base = tmp_path / "base"
    built = _driver("build", str(base))
    assert built.returncode == 0, built.stderr[-2000:]
    dry = tmp_path / "dry"
    shutil.copytree(base, dry)
    t0 = time.perf_counter()
    counted = _driver("count", str(dry))
    duration = time.perf_counter() - t0
    assert counted.returncode == 0, counted.stderr[-2000:]
    writes = int(counted.stdout.split()[-1])
    assert writes >= 20, f"only {writes} write points"

    jobs: list[tuple[Path, list[str], float | None]] = []
    m = min(MAX_WRITE_POINTS, writes)
    points = sorted({1 + round(k * (writes - 1) / max(1, m - 1)) for k in range(m)})
    for n in points:
        jobs.append((tmp_path / f"kill-at-{n}", ["run", str(n)], None))
    rng = random.Random(12)
    for k in range(RANDOM_KILLS):
        jobs.append((tmp_path / f"kill-random-{k}", ["run", "0"], rng.uniform(0.3, duration)))
    killed = 0
    for a in range(0, len(jobs), PARALLEL):
        running = []
        for folder, args, delay in jobs[a : a + PARALLEL]:
            shutil.copytree(base, folder)
            running.append((_spawn(args[0], str(folder), *args[1:]), delay))
        for proc, delay in running:
            if delay is not None:
                try:
                    proc.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=300)
            killed += proc.returncode == -signal.SIGKILL
    assert killed >= 20, f"only {killed} processes were really killed mid-ingest"

    checked = _driver("check", *(str(f) for f, _a, _d in jobs), timeout=900)
    assert checked.returncode == 0, checked.stderr[-3000:]
    results = [json.loads(line) for line in checked.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(jobs)
    unusable = [r for r in results if "unusable" in r]
    lost = [r for r in results if r.get("cache") or r.get("chroma")]
    unrecovered = [r for r in results if "unusable" not in r and not r.get("recovered")]
    print(f"\nkill -9 during re-ingest: {len(jobs)} runs ({len(points)} of {writes} write points + "
          f"{RANDOM_KILLS} random times), {killed} killed mid-ingest, {len(unusable)} unusable, "
          f"{len(lost)} lost or half-written, {len(results) - len(unrecovered)} recovered by re-running")
    assert not unusable, unusable[:3]
    assert not lost, lost[:3]
    assert not unrecovered, unrecovered[:3]
