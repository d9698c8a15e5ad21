"""Write an fp16 copy of the packaged all-MiniLM-L6-v2 for the GPU machine to train from.

``python -m train.base_fp16 train/out/base-fp16`` (``make reader-device-kit``). Why: the GPU
machine has torch and transformers but not this project's packages, and what travels to it is
limited to 64 MiB; the fp32 weights are 91 MB, the fp16 copy 45 MB. Only floating tensors are
cast (``position_ids`` is int64: casting it breaks the model). Training loads it back as fp32.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def write_fp16_base(out: Path) -> Path:
    from safetensors.numpy import load_file, save_file

    from assistant.core.settings import default_model_path

    src = Path(default_model_path())
    out.mkdir(parents=True, exist_ok=True)
    tensors = {
        k: v.astype("float16") if v.dtype.kind == "f" else v
        for k, v in load_file(str(src / "model.safetensors")).items()
    }
    save_file(tensors, str(out / "model.safetensors"))
    for name in FILES:
        shutil.copy2(src / name, out / name)
    return out


def main() -> None:
    out = write_fp16_base(Path(sys.argv[1] if len(sys.argv) > 1 else "train/out/base-fp16"))
    size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    print(f"wrote {out} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
