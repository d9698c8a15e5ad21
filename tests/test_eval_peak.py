"""Benchmarks report a child process's own peak memory, not the parent's that started it."""

from __future__ import annotations

import json
import subprocess
import sys

from assistant.core.settings import PROJECT_ROOT
from eval.peak import peak_rss_mb


def test_a_child_reports_its_own_peak_not_its_parents() -> None:
    ballast = bytearray(300 * 1024 * 1024)
    ballast[:: 4096] = b"\1" * len(ballast[:: 4096])  # touched: resident in this process
    assert peak_rss_mb() > 300
    code = "import json; from eval.peak import peak_rss_mb; print(json.dumps(peak_rss_mb()))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                         timeout=60, check=True)
    assert json.loads(run.stdout) < 100  # ru_maxrss would say the parent's 300+ MB
    del ballast
