"""Set the answerer's reader constants on the *dev* splits only (never the test splits).

``python -m train.tune_reader --set news --set squad --set dev_article`` loads each set's dev
items and its cached eval index once, then scores every combination of the grid below by the
strict accuracy (the direct answer must be right; unanswerable items must be refused). The
reader's forward passes are memoised: the candidates it reads do not depend on the constants,
so the grid costs one pass of the model. Prints one line per combination; the chosen values
are written, with the run they came from, beside the ``reader_*`` fields in ``assistant/policy.py``.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace

from assistant import policy as policy_mod
from eval.tune_policy import load_dev_sets


def _memoise(reader) -> None:
    cache: dict = {}
    read = reader.read

    def cached(question: str, candidates: list[tuple[str, str]]):
        key = (question, tuple(candidates))
        if key not in cache:
            cache[key] = read(question, candidates)
        return cache[key]

    reader.read = cached


def _score(loaded) -> dict[str, tuple[float, float, float]]:
    from eval import metrics as m
    from eval.runner import run_backend

    out = {}
    for name, items, bot in loaded:
        run = run_backend(bot, items, None, 5, progress=False)
        pairs = list(zip(items, run.outcomes, strict=True))
        strict = sum(m.answer_correct_strict(it, o) for it, o in pairs) / len(pairs)
        ans = [(it, o) for it, o in pairs if it.answerable]
        una = [(it, o) for it, o in pairs if not it.answerable]
        fr = sum(o.refused for _it, o in ans) / max(1, len(ans))
        ur = sum(o.refused for _it, o in una) / max(1, len(una))
        out[name] = (strict, fr, ur)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", required=True, help="question set name (dev split used)")
    ap.add_argument("--weight", type=float, nargs="+", default=[policy_mod.POLICY.reader_weight])
    ap.add_argument("--accept", type=float, nargs="+", default=[policy_mod.POLICY.reader_accept])
    ap.add_argument("--reject", type=float, nargs="+", default=[policy_mod.POLICY.reader_reject])
    ap.add_argument("--span", type=float, nargs="+", default=[policy_mod.POLICY.reader_span])
    ap.add_argument("--no-reader", action="store_true", help="also score the rules alone")
    args = ap.parse_args()
    loaded = load_dev_sets(args.set)
    if args.no_reader:
        saved = [bot._reader for _n, _i, bot in loaded]
        for _n, _i, bot in loaded:
            bot._ensure_loaded()
            bot._reader = None
        print("rules only:", _fmt(_score(loaded)), flush=True)
        for (_n, _i, bot), r in zip(loaded, saved, strict=True):
            bot._reader = r
    for _n, _i, bot in loaded:
        bot._ensure_loaded()
        if bot._reader is not None:
            _memoise(bot._reader)
    for w, a, r, s in itertools.product(args.weight, args.accept, args.reject, args.span):
        policy_mod.POLICY = replace(
            policy_mod.POLICY, reader_weight=w, reader_accept=a, reader_reject=r, reader_span=s
        )
        print(f"weight={w} accept={a} reject={r} span={s}:", _fmt(_score(loaded)), flush=True)


def _fmt(scores: dict[str, tuple[float, float, float]]) -> str:
    parts = [
        f"{n} strict {a:.3f} ans-refused {f:.2f} unans-refused {u:.2f}" for n, (a, f, u) in scores.items()
    ]
    mean = sum(a for a, _f, _u in scores.values()) / len(scores)
    return f"mean strict {mean:.3f} | " + " | ".join(parts)


if __name__ == "__main__":
    main()
