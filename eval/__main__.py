"""``python -m eval``: run the gold set, print the table, write JSON + Markdown + PNG reports.

    python -m eval                                  # default backend, all items
    python -m eval --backend extractive --backend llm
    python -m eval --category numeric --limit 5
    python -m eval --export ragas.jsonl
    python -m eval --compare eval/reports/A.json eval/reports/B.json
    python -m eval --gold eval/data/dev_article.jsonl       # held-out dev questions
    python -m ingest tests/data/bridge.txt --index-dir /tmp/bridge-index
    python -m eval --gold eval/data/dev_bridge.jsonl --index-dir /tmp/bridge-index
    python -m eval --suite all      # every set over its own cached index, one table (+ baseline)
    python -m eval --suite news     # or: article, dev, squad, or one set's name
    python -m eval --suite all --split dev      # only the dev items (what you may tune on)
    python -m eval --suite all --split dev --backend extractive --backend llm --limit 12
                                    # side by side: claims verification dropped, fallbacks, latency
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from eval.dataset import CATEGORIES, GOLD_PATH, GoldDataError, check_evidence, load_gold, select

DEFAULT_K = 5


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n")[0])
    p.add_argument("--backend", action="append", default=[],
                   help="answering backend (extractive, llm); repeat to compare side by side")
    p.add_argument("--category", action="append", default=[], choices=CATEGORIES,
                   help="only this category (repeatable)")
    p.add_argument("--limit", type=int, default=None,
                   help="at most this many items (with --suite and several backends: per set, spread evenly)")
    p.add_argument("--k", type=int, default=DEFAULT_K, help="cut-off for retrieval recall@k")
    p.add_argument("--gold", type=Path, default=GOLD_PATH, help="gold JSONL file")
    p.add_argument("--index-dir", type=Path, default=None,
                   help="answer from this index (default: ASSISTANT_INDEX_DIR or .index/)")
    p.add_argument("--out", type=Path, default=None, help="report folder (default eval/reports)")
    p.add_argument("--export", type=Path, default=None, metavar="FILE.jsonl",
                   help="also write ragas/TruLens-style records (user_input, retrieved_contexts, ...)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"),
                   help="print per-metric deltas between two saved reports and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--suite", default=None, metavar="NAME",
                   help="run a suite of question sets, each over its own index in .index-eval/ "
                        "(all, article, dev, news, squad, or a set name) and print one table")
    p.add_argument("--split", choices=("dev", "test"), default=None,
                   help="with --suite: only this split (tune on dev; test splits are for reporting)")
    return p.parse_args(argv)


def run_suite(args: argparse.Namespace) -> int:
    """``--suite``: every set of the suite, strict and lenient per split, next to the baseline."""
    from assistant.core.errors import AssistantError
    from assistant.core.settings import Settings
    from eval.report import REPORTS_DIR
    from eval.suite_report import build, format_table, write
    from eval.suite_run import run_sets
    from eval.suites import resolve_suite

    try:
        sets = resolve_suite(args.suite)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    backend = (args.backend or [None])[0]
    try:
        results = run_sets(sets, Settings.from_env(), backend, args.k, progress=not args.no_progress,
                           log=lambda msg: print(msg, file=sys.stderr), split=args.split)
    except (GoldDataError, AssistantError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = build(results, args.suite, backend or "default", args.k)
    path = write(report, results, args.out or REPORTS_DIR)
    print(format_table(results))
    print(f"\nreport: {path} and {path.with_suffix('.md')}")
    return 0


def run_side_by_side(args: argparse.Namespace) -> int:
    """``--suite`` with several ``--backend``: one row per backend (``eval.side_by_side``)."""
    import os

    from assistant.core.errors import AssistantError
    from assistant.core.settings import Settings
    from eval.report import REPORTS_DIR
    from eval.side_by_side import format_table, run, write
    from eval.suites import resolve_suite

    try:
        sets = resolve_suite(args.suite)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    backends = list(dict.fromkeys(args.backend))
    try:
        rows = run(sets, settings, backends, args.k, limit=args.limit, split=args.split,
                   progress=not args.no_progress, log=lambda msg: print(msg, file=sys.stderr))
    except (GoldDataError, AssistantError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = {"suite": args.suite, "split": args.split, "limit_per_set": args.limit, "backends": backends,
            "llm_base_url": settings.llm_base_url, "llm_model": settings.llm_model,
            "load_average": os.getloadavg()}
    path = write(rows, args.out or REPORTS_DIR, meta)
    print(format_table(rows))
    print(f"\nreport: {path} and {path.with_suffix('.md')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.suite and len(set(args.backend)) > 1:
        return run_side_by_side(args)
    if args.suite:
        return run_suite(args)
    if args.compare:
        from eval.compare import compare_files

        print(compare_files(*args.compare))
        return 0
    try:
        items = select(load_gold(args.gold), args.category, args.limit)
    except (GoldDataError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from assistant import Assistant, AssistantError
    from assistant.core.settings import Settings
    from eval.plot import plot_scores
    from eval.report import REPORTS_DIR, build_report, format_table, scores_from_report, write_report
    from eval.runner import run_backend

    settings = Settings.from_env()
    if args.index_dir is not None:
        settings = replace(settings, index_dir=args.index_dir)
    assistant = Assistant(settings)
    try:
        sentence_keys = [s.key for s in assistant.sentences]
    except AssistantError as exc:
        print(f"error: {exc}\nbuild the index first: python -m ingest data/", file=sys.stderr)
        return 2
    for problem in check_evidence(items, sentence_keys):
        print(f"warning: {problem}", file=sys.stderr)

    backends: list[str | None] = list(dict.fromkeys(args.backend)) or [None]
    runs = [run_backend(assistant, items, b, args.k, progress=not args.no_progress) for b in backends]
    filters = {"category": args.category, "limit": args.limit, "backends": [r.backend for r in runs]}
    report = build_report(runs, items, args.k, args.gold, filters)
    json_path = write_report(report, args.out or REPORTS_DIR)
    scores = scores_from_report(report)
    png = plot_scores(scores, json_path.with_suffix(".png"))
    for bs in scores.values():
        print(format_table(bs))
        print()
    print(f"report: {json_path} and {json_path.with_suffix('.md')}" + (f", plot: {png}" if png else ""))
    if args.export:
        from eval.export import export_records

        n = export_records(runs, items, args.export)
        print(f"exported {n} records to {args.export}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
