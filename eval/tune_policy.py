"""Re-measure the rules' hand-set numbers (``assistant.answering.policy``) on the *dev* splits.

``python -m eval.tune_policy --set gold --set news premise_dense=0.3,0.35,0.4`` loads each set's
dev items and cached eval index once, then, for every combination of the values given (any
``AnswerPolicy`` field), hands each assistant that policy (``Assistant.use_answer_policy``) and
prints the strict accuracy (the direct answer must be right; unanswerable items must be refused)
with the refusal rates. The first line is the defaults. Test splits are never read, so a value
chosen here can still be checked on them; write the chosen value, with the run, beside it in
assistant/answering/policy.py. Which candidate answers and whether to answer are not here: they
are learned (``make decision-model``).
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import fields, replace
from typing import Any

from assistant.answering.policy import AnswerPolicy


def parse_grid(specs: list[str]) -> dict[str, list[Any]]:
    """``["min_score=0.4,0.5"]`` -> ``{"min_score": [0.4, 0.5]}``, typed like the field."""
    types = {f.name: type(getattr(AnswerPolicy(), f.name)) for f in fields(AnswerPolicy)}
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in types or not values:
            raise SystemExit(f"expected FIELD=v1,v2,... with FIELD one of: {', '.join(types)}; got {spec!r}")
        grid[name] = [types[name](v) for v in values.split(",")]
    return grid


def load_dev_sets(names: list[str]) -> list[tuple[str, list[Any], Any]]:
    """Each named set's *dev* items and an assistant over its cached eval index."""
    from assistant import Assistant
    from assistant.core.settings import Settings
    from eval.suites import CACHE_DIR, SETS, ensure_index

    settings = Settings.from_env()
    loaded = []
    for name in names:
        qs = SETS[name]
        items = [it for it in qs.load() if it.split == "dev"]
        folder = ensure_index(qs, settings, CACHE_DIR, print)
        loaded.append((name, items, Assistant(replace(settings, index_dir=folder, chroma_host=""))))
    return loaded


def score(loaded: list[tuple[str, list[Any], Any]]) -> str:
    """One line: mean strict accuracy, then per set strict / answerable refused / unanswerable refused."""
    from eval import metrics as m
    from eval.runner import run_backend

    parts, total = [], 0.0
    for name, items, bot in loaded:
        pairs = list(zip(items, run_backend(bot, items, None, 5, progress=False).outcomes, strict=True))
        strict = sum(m.answer_correct_strict(it, o) for it, o in pairs) / max(1, len(pairs))
        ans = [o for it, o in pairs if it.answerable]
        una = [o for it, o in pairs if not it.answerable]
        fr = sum(o.refused for o in ans) / max(1, len(ans))
        ur = sum(o.refused for o in una) / max(1, len(una))
        parts.append(f"{name} strict {strict:.3f} ans-refused {fr:.2f} unans-refused {ur:.2f}")
        total += strict
    return f"mean strict {total / max(1, len(loaded)):.3f} | " + " | ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", required=True, help="question set name (its dev split is used)")
    ap.add_argument("grid", nargs="*", help="FIELD=v1,v2,... (AnswerPolicy fields)")
    args = ap.parse_args()
    run_grid(load_dev_sets(args.set), parse_grid(args.grid))


def run_grid(loaded: list[tuple[str, list[Any], Any]], grid: dict[str, list[Any]]) -> None:
    """Print the default policy's scores, then every combination of ``grid``, scored on ``loaded``
    (each assistant is handed the policy: ``Assistant.use_answer_policy``)."""
    base = AnswerPolicy()
    print("defaults:", score(loaded), flush=True)
    try:
        for combo in itertools.product(*grid.values()):
            change = dict(zip(grid, combo, strict=True))
            for _name, _items, bot in loaded:
                bot.use_answer_policy(replace(base, **change))
            print(" ".join(f"{k}={v}" for k, v in change.items()) + ":", score(loaded), flush=True)
    finally:
        for _name, _items, bot in loaded:
            bot.use_answer_policy(base)


if __name__ == "__main__":
    main()
