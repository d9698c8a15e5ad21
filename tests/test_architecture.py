"""The static checks hold: the import contracts of pyproject.toml ([tool.importlinter]),
the type check ([tool.mypy]: assistant/, ingest/, ui/) and ruff.

Why tests: CI runs ``make test``, so a change that makes the answerer import the web chat,
two modules import each other again, or a type no longer fits fails there with the tool's
explanation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    """The ``name`` script of this interpreter's environment (else the one on PATH); skips
    the test when the dev extra is not installed."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_import_contracts_are_kept() -> None:
    run = _run(_tool("lint-imports"), "--no-logo", "--no-cache")
    assert run.returncode == 0, run.stdout + run.stderr


def test_types_check() -> None:
    """mypy over the files pyproject.toml names (a first run, without .mypy_cache, takes about a minute)."""
    run = _run(_tool("mypy"), timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_is_clean() -> None:
    run = _run(_tool("ruff"), "check", ".")
    assert run.returncode == 0, run.stdout + run.stderr
