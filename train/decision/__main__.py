"""``python -m train.decision``: collect, fit, choose thresholds, write the model and its card.

Three passes over the training questions (a few minutes on two cores, indexes cached in
``.index-eval/``): the first records candidate features (they do not depend on any weights),
the candidate model is fitted; the second answers with it and records the direct-answer options
of the sentence it answers from, the span model is fitted; the third answers with both and
records answer features, the answer model and thresholds are fitted. Records are kept in
``.decision-data/`` (``--reuse`` skips a pass whose file exists).
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
from train.decision.data import WORK, eval_dev_sets, foreign_question_sets, squad_training_sets
from train.decision.fit import build_model, choose_cite_threshold, fit_answers, fit_candidates, fit_spans


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.decision", description=__doc__)
    ap.add_argument("--out", default=str(DEFAULT_PATH), help="where to write the model JSON")
    ap.add_argument("--reuse", action="store_true", help="reuse the records of a pass already collected")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    squad = squad_training_sets()
    sets = eval_dev_sets() + squad + foreign_question_sets(squad)
    first, second, third = (WORK / f"phase{i}.jsonl" for i in (1, 2, 3))
    if not (args.reuse and first.exists()):
        print(f"pass 1: {write(collect(sets, bootstrap_model(), settings), first)} questions")
    first_records = read(first)
    cands = fit_candidates(first_records)
    cite = choose_cite_threshold(first_records, cands.oof)
    draft = replace(bootstrap_model(), candidate=cands.model, cite_threshold=cite, version="pass-2")
    if not (args.reuse and second.exists()):
        print(f"pass 2: {write(collect(sets, draft, settings), second)} questions")
    spans = fit_spans(read(second))
    draft = replace(draft, span=spans.model, version="pass-3")
    if not (args.reuse and third.exists()):
        print(f"pass 3: {write(collect(sets, draft, settings), third)} questions")
    records = read(third)
    answers = fit_answers(records)
    version = hashlib.sha256(
        json.dumps([m.model.to_json() for m in (cands, spans, answers)]).encode()
    ).hexdigest()[:12]
    model = build_model(cands, spans, answers, records, version)
    out = Path(args.out)
    out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    # the passes hold the same questions and candidates, in the same order (and passes 2 and 3
    # the same direct-answer options)
    card = write_card(model, records, cands.oof, spans.oof, answers.oof)
    out.with_suffix(".md").write_text(card, encoding="utf-8")
    print(
        f"wrote {out} (answer threshold {model.answer_threshold:.2f}, "
        f"confident {model.confident_threshold:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
