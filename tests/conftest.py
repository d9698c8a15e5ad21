"""Shared fixtures: no network in any test, a fast fake embedder, and real indexes on demand."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

# First: the offline switches pin BLAS to one thread and turn telemetry/hub access off, which
# only works before numpy (or anything else) is imported.
from assistant.core.settings import PROJECT_ROOT, Settings, offline_switches  # isort: skip

offline_switches()  # the test session is an entry point: before numpy below

import numpy as np  # noqa: E402  (after the offline switches, on purpose)
import pytest  # noqa: E402

ARTICLE = PROJECT_ROOT / "data" / "article.txt"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--llm-server", action="store_true",
                     help="also run the tests that build and start a real LLM server (`make test-llm`)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``llm_server`` tests run only with ``--llm-server``: whatever ``-m`` says, ``make test``
    and ``make test-quick`` never start llama.cpp (nor need it installed)."""
    if config.getoption("--llm-server"):
        return
    skip = pytest.mark.skip(reason="starts a real llama.cpp server: run `make test-llm`")
    for item in items:
        if "llm_server" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs offline: connecting anywhere but loopback raises."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127.")
                                      or self.family == getattr(socket, "AF_UNIX", None)):
            return real_connect(self, address)
        raise RuntimeError(f"network access blocked in tests: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


NETBLOCK = Path(__file__).resolve().parent / "netblock"


@pytest.fixture(scope="session", autouse=True)
def _block_network_in_subprocesses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every Python process a test starts runs offline too (``tests/netblock/sitecustomize.py``),
    and any attempt it made, even one it caught, fails the session."""
    log = tmp_path_factory.mktemp("network") / "attempts.log"
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "DOCQA_BLOCK_NETWORK", "DOCQA_NETWORK_LOG")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETBLOCK), saved["PYTHONPATH"]]))
    os.environ["DOCQA_BLOCK_NETWORK"] = "1"
    os.environ["DOCQA_NETWORK_LOG"] = str(log)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    attempts = log.read_text(encoding="utf-8") if log.exists() else ""
    assert not attempts, f"a subprocess of the tests tried to reach the network:\n{attempts}"


class FakeEmbedder:
    """Deterministic bag-of-words hashing vectors: fast, no model, similar texts are close."""

    dim = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        from assistant.language.text import content_terms

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for term in content_terms(t) or ["\x00"]:
                h = int(hashlib.md5(term.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-9)
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def article_text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings pointing at an empty index in a temporary folder."""
    return replace(Settings.from_env(), index_dir=tmp_path / "index", chroma_host="")


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shipped article ingested with the real model into a session-wide temporary index."""
    from ingest.pipeline import Ingestor

    root = tmp_path_factory.mktemp("real-index")
    settings = replace(Settings.from_env(), index_dir=root / "index", chroma_host="")
    data = root / "data"
    data.mkdir()
    shutil.copy(ARTICLE, data / "article.txt")
    report = Ingestor(settings).ingest_paths([data])
    assert not report.errors, report.errors
    return settings


@pytest.fixture(scope="session")
def real_assistant(real_index: Settings):
    """An ``Assistant`` over the real article index, shared by the whole session."""
    from assistant import Assistant

    return Assistant(real_index)
