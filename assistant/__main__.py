"""CLI: ``python -m assistant "question" [--json] [--history FILE.json] [--doc ID] [--top-k N]``.

Prints the answer, then every cited sentence as ``[n] doc_id #sentence_id (start–end): text``.
When the documents do not answer, it prints the sentences that were on topic under
"related (not cited)", so nobody mistakes them for support.

With ``--backend llm`` a reply the citations could not verify, or a server that failed
mid-answer, gives the extractive answer and a ``note:`` line on stderr saying why.

Exit codes: 0 answered (or honestly refused), 1 the question was unusable (the answer's
error message is printed), 2 the index is missing or corrupt, the LLM server (``--backend
llm``) cannot be used, or the command line is wrong.

The question path imports only numpy, chromadb and the NumPy MiniLM (no torch,
sentence-transformers, llama-index or gradio), because cold start is the whole cost of a
one-shot CLI call.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.core.errors import AssistantError
from assistant.core.settings import offline_switches

if TYPE_CHECKING:
    from assistant.core.types import Answer, Citation
    from assistant.engine import Assistant

EXIT_OK = 0
EXIT_BAD_QUESTION = 1
EXIT_INDEX = 2  # also: unusable LLM server, bad command line


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number; use e.g. --top-k 8") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1; use e.g. --top-k 8")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant",
        description="Answer a question from the indexed documents and cite the exact source sentences.",
    )
    parser.add_argument(
        "question", nargs="+", help="the question (quote it; unquoted words are joined with spaces)"
    )
    parser.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    parser.add_argument(
        "--history",
        type=Path,
        metavar="FILE.json",
        help='the conversation so far: a JSON list of {"role": "user"|"assistant", '
        '"content": "..."} (or an object with a "messages" list)',
    )
    parser.add_argument(
        "--doc",
        action="append",
        default=[],
        metavar="DOC_ID",
        help="only answer from this document (repeat, or separate ids with commas)",
    )
    parser.add_argument(
        "--top-k",
        type=_positive_int,
        metavar="N",
        help="sentences considered by the answerer (default: ASSISTANT_TOP_K or 8)",
    )
    parser.add_argument(
        "--backend",
        choices=("extractive", "llm"),
        help="extractive (default) or llm (an OpenAI-compatible server, see ASSISTANT_LLM_BASE_URL)",
    )
    parser.add_argument(
        "--index-dir", type=Path, help="index folder (default: ASSISTANT_INDEX_DIR or .index/)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print why: the reason code, P(right) with how it is shown, and the answerer's DEBUG trace",
    )
    return parser


def load_history(path: Path) -> list[Any]:
    """Read ``--history``; raises ``ValueError`` naming the file and the expected shape.

    Only the file's *shape* is checked here (a list); the items themselves go to ``ask``,
    which answers malformed ones with a message instead of raising.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read --history {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"--history {path} is not UTF-8 text; save it as a JSON file") from None
    try:
        data = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"--history {path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
            'expected [{"role": "user", "content": "..."}, ...]'
        ) from None
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        data = data["messages"]
    if not isinstance(data, list):
        raise ValueError(
            f"--history {path} holds a JSON {type(data).__name__}, not a list of messages; "
            'expected [{"role": "user", "content": "..."}, ...]'
        )
    return data


def _where(c: Citation) -> str:
    return f"{c.doc_id} #{c.sentence_id} ({c.start}–{c.end})"


def render(answer: Answer) -> str:
    """The human-readable form: answer text, then numbered citations or related sentences."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines += [f"[{n}] {_where(c)}: {c.text}" for n, c in enumerate(answer.citations, start=1)]
    if answer.refused and answer.related:
        lines += ["", "related (not cited):"]
        lines += [f"  - {_where(c)}: {c.text}" for c in answer.related]
    return "\n".join(lines)


def _log_to(stream: TextIO) -> None:
    """Send the answerer's DEBUG trace (stages, candidates' scores) to ``stream``."""
    import logging

    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("trace: %(message)s"))
    log = logging.getLogger("assistant.answering.answer")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)


def _doc_ids(values: Sequence[str]) -> list[str]:
    return [d.strip() for v in values for d in v.split(",") if d.strip()]


def main(
    argv: Sequence[str] | None = None,
    *,
    assistant: Assistant | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the CLI and return its exit code; ``assistant`` may be injected (tests)."""
    offline_switches()
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    question = " ".join(args.question)
    if args.explain:
        _log_to(err)
    try:
        history = load_history(args.history) if args.history else None
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INDEX
    try:
        if assistant is None:
            from assistant.core.settings import Settings
            from assistant.engine import Assistant

            settings = Settings.from_env()
            if args.index_dir:
                settings = replace(settings, index_dir=args.index_dir)
            assistant = Assistant(settings)
        answer = assistant.ask(
            question, history, doc_ids=_doc_ids(args.doc) or None, top_k=args.top_k, backend=args.backend
        )
    except (AssistantError, ValueError) as exc:
        # IndexMissingError / IndexCorruptError (or a bad ASSISTANT_* value): no answer is
        # possible, and the message already says how to fix it.
        print(f"error: {' '.join(str(exc).split())}", file=err)
        return EXIT_INDEX
    # Question problems are caught before any backend runs, so an error from the llm backend
    # means its server is unusable: like a missing index, that is exit 2 with one error line.
    backend_failed = bool(answer.error) and answer.backend == "llm"
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2), file=out)
    elif backend_failed:
        print(f"error: {' '.join(answer.error.split())}", file=err)
    elif answer.error:
        print(answer.error, file=err)
    else:
        print(render(answer), file=out)
    if answer.notice and not args.json:  # e.g. the LLM's reply could not be verified: why this answer
        print(f"note: {' '.join(answer.notice.split())}", file=err)
    if args.explain:
        conf = f"{answer.confidence:.2f}" if answer.confidence >= 0 else "n/a"
        shown = f" ({answer.certainty})" if answer.certainty else ""
        print(f"reason: {answer.reason or 'n/a'} · kind: {answer.kind} · P(right): {conf}{shown}", file=out)
        if answer.fallback:
            dropped = f"{answer.claims_dropped}/{answer.claims}"
            print(f"fallback: {answer.fallback} · LLM claims dropped: {dropped}", file=out)
    if backend_failed:
        return EXIT_INDEX
    return EXIT_BAD_QUESTION if answer.error else EXIT_OK


def _run() -> None:
    # A terminal that cannot show "–" or a non-English quote must not crash the answer.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    _run()
