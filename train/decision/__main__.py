"""``python -m train.decision``: collect, fit, choose thresholds, write the model and its card.

Two passes over the training questions (a few minutes on two cores, indexes cached in
``.index-eval/``): the first records candidate features (they do not depend on any weights),
the candidate model is fitted; the second answers with it and records answer features, the
answer model and thresholds are fitted. Records are kept in ``.decision-data/`` (``--reuse``
skips a pass whose file exists).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from assistant.answering.decision.model import DEFAULT_PATH, bootstrap_model
from assistant.core.settings import Settings
from train.decision.card import write_card
from train.decision.collect import collect, read, write
from train.decision.data import WORK, eval_dev_sets, squad_training_sets
from train.decision.fit import build_model, choose_cite_threshold, fit_answers, fit_candidates


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.decision", description=__doc__)
    ap.add_argument("--out", default=str(DEFAULT_PATH), help="where to write the model JSON")
    ap.add_argument("--reuse", action="store_true", help="reuse the records of a pass already collected")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    sets = eval_dev_sets() + squad_training_sets()
    first, second = WORK / "phase1.jsonl", WORK / "phase2.jsonl"
    if not (args.reuse and first.exists()):
        print(f"pass 1: {write(collect(sets, bootstrap_model(), settings), first)} questions")
    first_records = read(first)
    cands = fit_candidates(first_records)
    cite = choose_cite_threshold(first_records, cands.oof)
    draft = replace(bootstrap_model(), candidate=cands.model, cite_threshold=cite, version="pass-2")
    if not (args.reuse and second.exists()):
        print(f"pass 2: {write(collect(sets, draft, settings), second)} questions")
    records = read(second)
    answers = fit_answers(records)
    version = hashlib.sha256(
        json.dumps([cands.model.to_json(), answers.model.to_json()]).encode()
    ).hexdigest()[:12]
    model = build_model(cands, answers, records, version)
    out = Path(args.out)
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    # pass 1 and pass 2 hold the same questions and candidates, in the same order
    out.with_suffix(".md").write_text(write_card(model, records, cands.oof, answers.oof), encoding="utf-8")
    print(
        f"wrote {out} (answer threshold {model.answer_threshold:.2f}, "
        f"confident {model.confident_threshold:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
