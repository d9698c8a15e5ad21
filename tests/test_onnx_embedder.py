"""The ingest embedder on ONNX Runtime: same vectors as sentence-transformers, exported once, offline."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.core.settings import Settings, default_model_path
from tests.retrieval.test_embedder import TEXTS


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.mark.slow
def test_onnx_vectors_equal_sentence_transformers_and_keep_the_order(onnx_dir: Path) -> None:
    from assistant.retrieval.embedder import SentenceTransformerEmbedder
    from ingest.onnx_embedder import OnnxMiniLM, graph_path

    onnx = OnnxMiniLM(default_model_path(), onnx_dir, threads=1, batch_size=3)
    assert graph_path(default_model_path(), onnx_dir).exists()  # cached for the next ingest
    texts = [*TEXTS, "\ud800 a lone surrogate"]
    ours = onnx.embed(texts)
    reference = SentenceTransformerEmbedder().embed(texts)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() > 0.99999, cosines
    assert np.allclose(onnx.embed(texts[::-1])[::-1], ours, atol=1e-6)  # sorted by length inside
    assert onnx.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_int8_variant_stays_close(onnx_dir: Path) -> None:
    from ingest.onnx_embedder import OnnxMiniLM

    fp32 = OnnxMiniLM(default_model_path(), onnx_dir).embed(TEXTS)
    int8 = OnnxMiniLM(default_model_path(), onnx_dir, precision="int8").embed(TEXTS)
    assert np.sum(fp32 * int8, axis=1).min() > 0.97


def test_the_ingest_embedder_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.onnx_embedder as onnx_embedder
    import ingest.pipeline as pipeline

    made: list[tuple[str, str]] = []

    class Fake:
        dim = 384

        def __init__(self, model_path: str, folder: Path, threads: int = 1, batch_size: int = 16,
                     precision: str = "fp32") -> None:
            made.append((str(folder), precision))

    monkeypatch.setattr(onnx_embedder, "OnnxMiniLM", Fake)
    settings = replace(Settings.from_env(), onnx_dir=tmp_path, model_path=str(tmp_path))
    assert isinstance(pipeline._load_embedder(settings), Fake)
    assert isinstance(pipeline._load_embedder(replace(settings, embed_backend="onnx-int8")), Fake)
    assert made == [(str(tmp_path), "fp32"), (str(tmp_path), "int8")]
    with pytest.raises(ValueError, match="ASSISTANT_EMBED_BACKEND"):
        pipeline._load_embedder(replace(settings, embed_backend="cuda"))


def test_without_the_onnx_package_ingest_embeds_with_sentence_transformers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    import assistant.retrieval.embedder as embedder
    import ingest.pipeline as pipeline

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnx" else real(name, *a))

    class FakeST:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

    monkeypatch.setattr(embedder, "SentenceTransformerEmbedder", FakeST)
    settings = replace(Settings.from_env(), onnx_dir=tmp_path)  # no graph there yet: it must export
    assert isinstance(pipeline._load_embedder(settings), FakeST)
    assert "pip install onnx" in capsys.readouterr().err
