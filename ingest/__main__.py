"""CLI: ``python -m ingest PATH...`` adds files or folders to the index; ``--repair`` fixes it.

Exit code 0 when everything given was indexed (or already was), 1 when any file failed or
the index cannot be opened, 2 for a usage error. One line per failed file, then a summary
line. ``--repair`` upgrades an old index, cleans what a killed ingest left and rebuilds
damaged documents from their stored text, without losing any document.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.core.errors import AssistantError
from assistant.core.settings import Settings, offline_switches


def main(argv: list[str] | None = None) -> int:
    offline_switches()  # before sentence-transformers or spaCy are imported
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (.txt .md .html .pdf)")
    parser.add_argument(
        "--index-dir", type=Path, help="index folder (default: ASSISTANT_INDEX_DIR or .index/)"
    )
    parser.add_argument("--repair", action="store_true",
                        help="repair the index in place (keeps every document), then ingest PATHs if given")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not args.paths and not args.repair:
        parser.error("give at least one PATH (or --repair)")
    settings = Settings.from_env()
    if args.index_dir:
        from dataclasses import replace

        settings = replace(settings, index_dir=args.index_dir)

    from ingest.pipeline import Ingestor

    ingestor = Ingestor(settings)
    if args.repair:
        from ingest.repair import repair

        try:
            print(repair(ingestor).summary())
        except AssistantError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if not args.paths:
            return 0
    return _ingest(ingestor, args.paths, args.quiet)


def _ingest(ingestor: object, paths: list[Path], quiet: bool) -> int:
    from tqdm import tqdm

    from ingest.loaders import collect_files

    files = collect_files(paths)
    if not files:
        print(f"error: no supported files in {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    bar = tqdm(total=len(files), unit="doc", disable=quiet, desc="ingest", file=sys.stderr)
    sentences = None if quiet else SentenceBar()
    try:
        report = ingestor.ingest_paths(  # type: ignore[attr-defined]
            files, progress=lambda name: (bar.set_postfix_str(name), bar.update(1)), on_step=sentences
        )
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        if sentences:
            sentences.close()
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    if report.recovered:
        print(f"note: finished what an interrupted ingest left for {len(report.recovered)} documents")
    print(report.summary())
    return 1 if report.errors else 0


class SentenceBar:
    """A second bar, of sentences embedded: a long file moves it piece by piece.

    Why: the first bar counts files, and one book is one file (it moved once, at the end).
    The pipeline reports ("sentences", 0, n) when a group of files or a long file starts and
    ("embedding", done, n) after each batch; the bar's total grows by each group's n."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="sentence", desc="embedded", file=sys.stderr, position=1)
        self.base = 0  # sentences of the groups finished before the current one
        self.current = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == "sentences":
            self.base += self.current
            self.current = total
            self.bar.total = self.base + total
            self.bar.refresh()
        elif stage == "embedding":
            self.bar.update(self.base + done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


if __name__ == "__main__":
    sys.exit(main())
