"""Every question of every set through an ``Assistant``, one JSON line per item.

Why: a refactoring that moves code (issue 20: ``assistant/`` split into sub-packages) must
change no answer. Run this before and after, and diff the two files::

    python -m eval.same_answers --out /tmp/answers-before.jsonl
    ... move ...
    python -m eval.same_answers --out /tmp/answers-after.jsonl
    python -m eval.same_answers --diff /tmp/answers-before.jsonl /tmp/answers-after.jsonl

Each set is read whole (dev and test, ``every=1``, not the suite's subsample). An index's key
hashes the ingest code, so moved modules get a fresh index; ``--reuse DIR`` answers over the
complete index folders already in ``DIR`` (``<index name>-<key>``) instead, to compare the
answering code alone over the very same index.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.core.settings import Settings
from eval.suites import _DONE, CACHE_DIR, SETS, QuestionSet, ensure_index


def _index_for(qs: QuestionSet, settings: Settings, cache: Path, reuse: Path | None) -> Path:
    if reuse is not None:
        found = sorted(p.parent for p in reuse.glob(f"{qs.index_name or qs.name}-*/{_DONE}"))
        if len(found) != 1:
            raise SystemExit(f"--reuse {reuse}: expected one complete index for {qs.name}, found {found}")
        return found[0]
    return ensure_index(qs, settings, cache, log=lambda msg: print(msg, file=sys.stderr))


def _row(set_name: str, item: Any, answer: Any) -> dict[str, Any]:
    return {"set": set_name, "id": item.id, "split": item.split, "text": answer.text,
            "short_answer": answer.short_answer, "refused": answer.refused, "reason": str(answer.reason),
            "citations": [[c.doc_id, int(c.sentence_id)] for c in answer.citations],
            "confidence": round(float(answer.confidence), 9), "error": answer.error}


def run(out: Path, cache: Path, reuse: Path | None) -> int:
    from assistant import Assistant

    settings = Settings.from_env()
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for name, qs in SETS.items():
            if not qs.gold.exists():
                continue
            whole = replace(qs, every=1)
            items = whole.load()
            folder = _index_for(whole, settings, cache, reuse)
            assistant = Assistant(replace(settings, index_dir=folder, chroma_host=""))
            for item in items:
                scope = {"doc_ids": [item.doc_id]} if item.doc_id else {}
                answer = assistant.ask(item.question, item.history_messages(), **scope)
                f.write(json.dumps(_row(name, item, answer), ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
            print(f"{name}: {len(items)} items over {folder}", file=sys.stderr)
    print(f"{n} answers -> {out}", file=sys.stderr)
    return n


def diff(before: Path, after: Path) -> int:
    """The number of items whose row differs (or exists on one side only); prints each."""
    a = [json.loads(line) for line in before.read_text(encoding="utf-8").splitlines()]
    b = [json.loads(line) for line in after.read_text(encoding="utf-8").splitlines()]
    ka = {(r["set"], r["id"]): r for r in a}
    kb = {(r["set"], r["id"]): r for r in b}
    bad = 0
    for key in sorted(set(ka) | set(kb)):
        if ka.get(key) != kb.get(key):
            bad += 1
            print(f"DIFFERENT {key}:\n  before {ka.get(key)}\n  after  {kb.get(key)}")
    print(f"{len(set(ka) & set(kb)) - bad} of {len(set(ka) | set(kb))} items identical, {bad} different")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write one JSON line per item here")
    ap.add_argument("--cache", type=Path, default=CACHE_DIR, help="where the sets' indexes are built")
    ap.add_argument("--reuse", type=Path, help="answer over the complete indexes already in this folder")
    ap.add_argument("--diff", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args(argv)
    if args.diff:
        return 1 if diff(*args.diff) else 0
    if not args.out:
        ap.error("--out or --diff is required")
    run(args.out, args.cache, args.reuse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
