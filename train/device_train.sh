#!/usr/bin/env bash
# Train the reader on the lent GPU machine in one command (see assistant/models/reader/README.md).
# That machine has python3 + torch + transformers but not this project's packages, and only what
# travels with the checkout: run `make reader-device-kit` here first (the fp16 base model, 46 MB,
# in the ignored folder train/out/base-fp16, carried with carry=["train/out/base-fp16"]).
# The trained tensors come back through $OUT in shards under 16 MiB; then, here:
#   .venv/bin/python -m train.reader_export --model <files_at>/reader --out assistant/models/reader
set -euo pipefail
: "${OUT:?set OUT to the folder whose files come back}"
test -f train/out/base-fp16/model.safetensors || { echo "no train/out/base-fp16: run make reader-device-kit and carry it" >&2; exit 2; }
export PYTHONPATH=.
python3 -m train.reader_train --base train/out/base-fp16 --out "$OUT/reader" --shard-mb 15 \
  --epochs "${EPOCHS:-3}" --batch 64 --lr 4e-5 --max-len 128 "$@" 2>&1 | tee "$OUT/train.log"
