"""The import contracts of pyproject.toml ([tool.importlinter]) hold: ``lint-imports`` exits 0.

Why a test: CI runs ``make test``, so a change that makes the answerer import the web chat,
or two modules import each other again, fails there with import-linter's explanation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str | None:
    """The ``lint-imports`` of this interpreter's environment (else the one on PATH)."""
    local = Path(sys.executable).parent / "lint-imports"
    return str(local) if local.exists() else shutil.which("lint-imports")


def test_import_contracts_are_kept() -> None:
    tool = _lint_imports()
    if tool is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run([tool, "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
