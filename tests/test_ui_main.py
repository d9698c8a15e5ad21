"""``python -m ui`` start-up: auth parsing and the clear message when there is no index."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.__main__ import main, parse_auth


def test_parse_auth() -> None:
    assert parse_auth("") is None
    assert parse_auth("ann:s3cr:et") == ("ann", "s3cr:et")
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ValueError, match="user:password"):
            parse_auth(bad)


def test_missing_index_exits_1_with_how_to_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("ASSISTANT_AUTH", "")
    assert main() == 1
    err = capsys.readouterr().err
    assert "make run" in err and "python -m ingest data/" in err
    assert not (tmp_path / "nothing-here").exists()  # checking must not create an empty index


def test_bad_auth_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_AUTH", "no-colon")
    assert main() == 1
    assert "user:password" in capsys.readouterr().err


def test_bad_trusted_proxies_exit_1_before_loading_anything(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_AUTH", "")
    monkeypatch.setenv("ASSISTANT_TRUSTED_PROXIES", "*")
    assert main() == 1
    assert "ASSISTANT_TRUSTED_PROXIES" in capsys.readouterr().err
