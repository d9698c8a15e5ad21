"""The reader's trained tensors survive a sharded save (files under the GPU machine's 16 MiB
limit) and load back, over the packaged base or the fp16 copy the GPU machine trains from."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from assistant.core.settings import default_model_path  # noqa: E402
from train.base_fp16 import write_fp16_base  # noqa: E402
from train.reader_model import Reader, load_trained, save  # noqa: E402


@pytest.mark.slow
def test_sharded_save_loads_back_the_same_tensors(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Reader(Path(default_model_path()))
    with torch.no_grad():
        model.answer_head.weight.normal_()
        model.bert.encoder.layer[5].output.dense.bias.fill_(0.25)
    save(model, tmp_path / "r", {"format": 1}, shard_mb=6)
    shards = sorted((tmp_path / "r").glob("reader-*.safetensors"))
    assert len(shards) >= 3 and all(f.stat().st_size <= 6e6 + 1e5 for f in shards)
    assert not (tmp_path / "r" / "reader.safetensors").exists()

    base16 = write_fp16_base(tmp_path / "base16")
    for base in (None, base16):
        back = load_trained(tmp_path / "r", base)
        a = model.answer_head.weight.half().float()
        assert torch.equal(back.answer_head.weight, a)
        assert torch.allclose(back.bert.encoder.layer[5].output.dense.bias, torch.full((384,), 0.25))
    # the frozen word embeddings come from the base: fp16 rounding only
    w32 = load_trained(tmp_path / "r").bert.embeddings.word_embeddings.weight
    w16 = load_trained(tmp_path / "r", base16).bert.embeddings.word_embeddings.weight
    assert torch.allclose(w32, w16, atol=1e-3)


@pytest.mark.slow
def test_pooler_reader_keeps_its_pooler_through_save_and_load(tmp_path: Path) -> None:
    """reader.json records the head's input; loading rebuilds the same module with the
    trained pooler (not the base's)."""
    torch.manual_seed(0)
    model = Reader(Path(default_model_path()), pool="pooler")
    with torch.no_grad():
        model.bert.pooler.dense.bias.fill_(0.5)
    save(model, tmp_path / "r", {"format": 1, "pool": model.pool})
    back = load_trained(tmp_path / "r")
    assert back.pool == "pooler"
    assert torch.allclose(back.bert.pooler.dense.bias, torch.full((384,), 0.5))
    ids = torch.tensor([[101, 2054, 102, 2009, 102]])
    ones = torch.ones_like(ids)
    assert torch.allclose(model.eval()(ids, ids * 0, ones)[0], back(ids, ids * 0, ones)[0], atol=1e-2)


def test_unknown_pool_is_refused_with_the_bad_value() -> None:
    with pytest.raises(ValueError, match="'max'"):
        Reader(Path(default_model_path()), pool="max")
