"""The question sets ``python -m eval --suite`` runs, and one cached index per set.

Why one index per set: a set is only meaningful over the documents it was written for (the
article, the bridge text, four news articles, six SQuAD articles), and an index that mixes
them would let one set's text answer another's questions. Each index is built once with the
project's own ingest API into ``.index-eval/<set>-<hash>``; the hash covers the documents and
the ingest code, so a changed text or sentence splitter gets a fresh index, never a stale one.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.core.settings import Settings
from eval.dataset import EVAL_DIR, PROJECT_ROOT, GoldItem, load_gold

CACHE_DIR = PROJECT_ROOT / ".index-eval"
DATA = EVAL_DIR / "data"
_DONE = "complete"


@dataclass(frozen=True)
class QuestionSet:
    """A gold file, the documents its index holds, and a deterministic subsample step.

    ``every`` keeps every n-th question (file order) to bound run time on big sets.
    """

    name: str
    gold: Path
    documents: tuple[Path, ...]
    every: int = 1
    note: str = ""
    index_name: str = ""  # sets over the same documents share one index ("" = the set's name)

    def load(self) -> list[GoldItem]:
        docs = {p.name: _read(p) for p in self.documents}
        items = load_gold(self.gold, documents=docs)
        return items[:: self.every]


def _read(path: Path) -> str:
    from ingest.loaders import load_file

    return load_file(path).text


def _docs(folder: str) -> tuple[Path, ...]:
    return tuple(sorted((DATA / folder).glob(f"{folder}_*.txt")))


ARTICLE = PROJECT_ROOT / "data" / "article.txt"
SETS: dict[str, QuestionSet] = {s.name: s for s in (
    QuestionSet("gold", DATA / "gold.jsonl", (ARTICLE,), note="the original gold set (tuned on: all dev)",
                index_name="article"),
    QuestionSet("article_new", DATA / "article_new.jsonl", (ARTICLE,),
                note="new questions on the article, written from the text alone", index_name="article"),
    QuestionSet("dev_article", DATA / "dev_article.jsonl", (ARTICLE,), note="tuned on: all dev",
                index_name="article"),
    QuestionSet("dev_bridge", DATA / "dev_bridge.jsonl", (PROJECT_ROOT / "tests" / "data" / "bridge.txt",),
                note="tuned on: all dev"),
    QuestionSet("dev_third", DATA / "dev_third.jsonl", (DATA / "dev_third.txt",), note="tuned on: all dev"),
    QuestionSet("news", DATA / "news" / "questions.jsonl", _docs("news"),
                note="four Wikinews articles (GUM, CC BY 2.5)"),
    QuestionSet("squad", DATA / "squad" / "questions.jsonl", _docs("squad"), every=2,
                note="SQuAD 2.0 dev, six articles, every 2nd question"),
)}
SUITES: dict[str, tuple[str, ...]] = {
    "all": tuple(SETS),
    "article": ("gold", "article_new", "dev_article"),
    "dev": ("dev_article", "dev_bridge", "dev_third"),
    **{name: (name,) for name in SETS},
}


def resolve_suite(name: str) -> list[QuestionSet]:
    """The sets of a suite (a group name or one set's name); sets whose gold file is missing
    are left out so a partial checkout still runs the rest."""
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; expected one of {sorted(SUITES)}")
    return [SETS[n] for n in SUITES[name] if SETS[n].gold.exists()]


_SOURCES_LOCK = threading.Lock()


@functools.cache
def _ingest_sources() -> tuple[Path, ...]:
    """The ingest package and every project module it imports, directly or not.

    Why the closure and not just ``ingest/*.py``: what an index holds is also decided by
    modules under ``assistant/`` (the store and cache formats, the sentence types, the text
    helpers the splitter uses); a change there must not reuse a stale eval index. Found once
    per process, under a lock: ``ast.parse`` in two threads at once can fail on Python 3.11
    ("AST constructor recursion depth mismatch")."""
    with _SOURCES_LOCK:
        return tuple(_import_closure())


def _import_closure() -> list[Path]:
    todo = sorted((PROJECT_ROOT / "ingest").glob("*.py"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += _project_imports(path)
    return sorted(seen)


def _project_imports(path: Path) -> list[Path]:
    """The files of the ``assistant``/``ingest`` modules that ``path`` imports
    (``from assistant import policy`` is ``assistant/answering/policy.py``, not the package)."""
    found: list[Path] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [f for a in node.names for f in _module_file(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = [_module_file(f"{node.module}.{a.name}") for a in node.names]
            found += [f for sub in subs for f in sub]
            if not all(subs):  # some names are objects of the module itself
                found += _module_file(node.module)
    return found


def _module_file(name: str) -> list[Path]:
    """``[file]`` for a module of this project (``assistant``/``ingest``), else ``[]``."""
    if name.split(".")[0] not in ("assistant", "ingest"):
        return []
    base = PROJECT_ROOT.joinpath(*name.split("."))
    return [f for f in (base.with_suffix(".py"), base / "__init__.py") if f.exists()][:1]


def index_key(qs: QuestionSet) -> str:
    """A short hash of the set's documents (names and bytes) and of the code that ingests them."""
    h = hashlib.sha256()
    for path in (*sorted(qs.documents), *_ingest_sources()):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def ensure_index(qs: QuestionSet, settings: Settings, cache: Path = CACHE_DIR,
                 log: Callable[[str], object] = print) -> Path:
    """The set's index folder, ingested now unless a complete one with the same key exists.

    Two eval runs started together (a tuning grid in one shell, the suite in another) take
    turns on a lock file: the second waits and then reuses the first one's index instead of
    deleting it half-built as "interrupted"."""
    folder = cache / f"{qs.index_name or qs.name}-{index_key(qs)}"
    if (folder / _DONE).exists():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache / f"{folder.name}.lock"):
        if not (folder / _DONE).exists():
            _build(qs, settings, folder, log)
    return folder


def _build(qs: QuestionSet, settings: Settings, folder: Path, log: Callable[[str], object]) -> None:
    from ingest.pipeline import Ingestor

    if folder.exists():  # an interrupted build: start again
        shutil.rmtree(folder)
    log(f"indexing {qs.name}: {len(qs.documents)} document(s) into {folder}")
    report = Ingestor(replace(settings, index_dir=folder, chroma_host="")).ingest_paths(list(qs.documents))
    if report.errors:
        raise report.errors[0]
    (folder / _DONE).write_text(report.summary() + "\n", encoding="utf-8")


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``lock``, released when the block ends or the process dies
    (no stale lock after a crash). Where ``fcntl`` is missing (Windows) it does not guard."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def set_names(sets: Sequence[QuestionSet]) -> list[str]:
    return [s.name for s in sets]
