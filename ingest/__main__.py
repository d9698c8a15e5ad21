"""CLI: ``python -m ingest PATH...`` adds files or folders to the index.

Exit code 0 when everything given was indexed (or already was), 1 when any file failed,
2 for a usage error. One line per failed file, then a summary line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders (.txt .md .html .pdf)")
    parser.add_argument(
        "--index-dir", type=Path, help="index folder (default: ASSISTANT_INDEX_DIR or .index/)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.index_dir:
        from dataclasses import replace

        settings = replace(settings, index_dir=args.index_dir)

    from tqdm import tqdm

    from ingest.loaders import collect_files
    from ingest.pipeline import Ingestor

    files = collect_files(args.paths)
    if not files:
        print(f"error: no supported files in {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 1
    bar = tqdm(total=len(files), unit="doc", disable=args.quiet, desc="ingest", file=sys.stderr)
    try:
        report = Ingestor(settings).ingest_paths(
            files, progress=lambda name: (bar.set_postfix_str(name), bar.update(1))
        )
    except AssistantError as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bar.close()
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    print(report.summary())
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
