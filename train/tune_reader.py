"""Set the answerer's reader constants on the *dev* splits only (never the test splits).

``python -m train.tune_reader --set news --set squad reader_weight=1,3 reader_reject=0,0.02``
is ``python -m eval.tune_policy`` (same sets, same scores, any ``AnswerPolicy`` field) with one
addition: the reader's forward passes are memoised. The candidates it reads do not depend on
the constants, so a whole grid costs one pass of the model. ``--no-reader`` first scores the
rules alone. Write the chosen values, with the run, beside the ``reader_*`` fields in
``assistant/policy.py``.
"""

from __future__ import annotations

import argparse

from eval.tune_policy import load_dev_sets, parse_grid, run_grid, score


def _memoise(reader) -> None:  # an assistant.reader.Reader
    cache: dict = {}
    read = reader.read

    def cached(question: str, candidates: list[tuple[str, str]]):
        key = (question, tuple(candidates))
        if key not in cache:
            cache[key] = read(question, candidates)
        return cache[key]

    reader.read = cached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", required=True, help="question set name (dev split used)")
    ap.add_argument("--no-reader", action="store_true", help="first score the rules alone")
    ap.add_argument("grid", nargs="*", help="FIELD=v1,v2,... (AnswerPolicy fields, e.g. reader_weight=1,3)")
    args = ap.parse_args()
    grid = parse_grid(args.grid)
    loaded = load_dev_sets(args.set)
    for _n, _i, bot in loaded:
        bot._ensure_loaded()  # loads the reader too, so it can be set aside and memoised
    if args.no_reader:
        saved = [bot._reader for _n, _i, bot in loaded]
        for _n, _i, bot in loaded:
            bot._reader = None
        print("rules only:", score(loaded), flush=True)
        for (_n, _i, bot), reader in zip(loaded, saved, strict=True):
            bot._reader = reader
    for _n, _i, bot in loaded:
        if bot._reader is not None:
            _memoise(bot._reader)
    run_grid(loaded, grid)


if __name__ == "__main__":
    main()
