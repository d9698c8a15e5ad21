"""Gold Q&A items: load a question set (JSON Lines) and validate it into frozen dataclasses.

Why validate strictly: a typo in a hand-written gold file (a missing ``must``, an evidence span
that no longer matches its document, an unanswerable item with evidence) silently skews every
score computed from it. Every problem is reported with the file, line and item id it is on.

Evidence is stored as character spans (``doc_id``, ``start``, ``end``, ``text``) and checked
against the document text on load, so a change of the sentence splitter cannot silently move
the gold; the sentence ids the metrics use are *derived* from the spans with the project's own
splitter each time a set is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = EVAL_DIR.parent
GOLD_PATH = EVAL_DIR / "data" / "gold.jsonl"
# Where a gold file's documents are looked up by doc_id (file name), first match wins.
DOC_DIRS: tuple[Path, ...] = (PROJECT_ROOT / "data", EVAL_DIR / "data", EVAL_DIR / "data" / "news",
                              EVAL_DIR / "data" / "squad", PROJECT_ROOT / "tests" / "data")

CATEGORIES: tuple[str, ...] = (
    "factoid", "numeric", "list", "yes_no", "why", "paraphrase", "not_in_article", "off_topic",
    "multi_turn", "arithmetic", "false_premise", "prompt_injection",
)
# Categories whose questions the documents cannot answer: the right behaviour is a refusal.
UNANSWERABLE_CATEGORIES = frozenset({"not_in_article", "off_topic", "prompt_injection"})
SPLITS = ("dev", "test")
BENCHMARKS = ("squad2",)

_REQUIRED = ("id", "category", "question", "answerable", "reference", "must", "evidence", "split")
_OPTIONAL = ("history", "doc_id", "benchmark")

DocumentLookup = Callable[[str], str | None]


class GoldDataError(ValueError):
    """The gold file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Evidence:
    """One gold supporting span: ``document.text[start:end] == text``.

    ``sentence_ids`` are derived on load (the sentences of ``ingest.sentences`` the span
    overlaps); they are a convenience for sentence-level metrics, never stored in the file.
    """

    doc_id: str
    start: int
    end: int
    text: str
    sentence_ids: tuple[int, ...] = ()

    @property
    def keys(self) -> tuple[tuple[str, int], ...]:
        return tuple((self.doc_id, s) for s in self.sentence_ids)


@dataclass(frozen=True)
class Turn:
    """One earlier message of a multi-turn item (the usual chat-messages shape)."""

    role: str
    content: str


@dataclass(frozen=True)
class GoldItem:
    """A question with what a correct, grounded answer must contain and cite.

    ``must`` is a tuple of key facts; each fact is a tuple of acceptable alternative strings
    (any one of them satisfies the fact). ``evidence`` lists the spans that support it.
    ``split`` is ``dev`` (may be tuned on) or ``test`` (never looked at item by item while
    tuning). ``doc_id`` scopes the question to one document of a multi-document index;
    ``benchmark`` marks items scored with an external benchmark's rules (``squad2``).
    """

    id: str
    category: str
    question: str
    answerable: bool
    reference: str
    must: tuple[tuple[str, ...], ...]
    evidence: tuple[Evidence, ...]
    split: str = "dev"
    history: tuple[Turn, ...] = ()
    doc_id: str = ""
    benchmark: str = ""
    line: int = 0

    @property
    def evidence_keys(self) -> frozenset[tuple[str, int]]:
        return frozenset(k for e in self.evidence for k in e.keys)

    @property
    def polarity(self) -> str:
        """``yes``/``no`` for a yes/no item (the reference's first word), else ``""``."""
        if self.category != "yes_no":
            return ""
        words = self.reference.split(maxsplit=1)
        first = words[0].strip(".,;:!").lower() if words else ""
        return first if first in ("yes", "no") else ""

    def history_messages(self) -> list[dict[str, str]]:
        """The history in the ``[{"role", "content"}]`` form ``Assistant.ask`` accepts."""
        return [{"role": t.role, "content": t.content} for t in self.history]


def _fail(where: str, msg: str) -> GoldDataError:
    return GoldDataError(f"{where}: {msg}")


def _nonempty_str(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{name}' must be a non-empty string, got {value!r}")
    return value


def _parse_must(value: Any, where: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise _fail(where, f"'must' must be a list of lists of strings, got {value!r}")
    facts = []
    for i, fact in enumerate(value):
        if (not isinstance(fact, list) or not fact
                or not all(isinstance(a, str) and a.strip() for a in fact)):
            raise _fail(where, f"'must[{i}]' must be a non-empty list of non-empty strings, got {fact!r}")
        facts.append(tuple(fact))
    return tuple(facts)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@lru_cache(maxsize=64)
def _sentence_spans(text: str, doc_id: str) -> tuple[tuple[int, int, int], ...]:
    from ingest.sentences import split_sentences

    return tuple((s.sentence_id, s.start, s.end) for s in split_sentences(text, doc_id))


def sentence_ids_for(text: str, doc_id: str, start: int, end: int) -> tuple[int, ...]:
    """Ids of the sentences (``ingest.sentences.split_sentences``) that ``[start, end)`` overlaps."""
    return tuple(sid for sid, s, e in _sentence_spans(text, doc_id) if s < end and start < e)


def _parse_evidence(value: Any, where: str, lookup: DocumentLookup) -> tuple[Evidence, ...]:
    if not isinstance(value, list):
        raise _fail(where, f"'evidence' must be a list, got {value!r}")
    out = []
    for i, ev in enumerate(value):
        ok = (isinstance(ev, dict) and set(ev) == {"doc_id", "start", "end", "text"}
              and isinstance(ev["doc_id"], str) and ev["doc_id"] and isinstance(ev["text"], str)
              and _is_index(ev["start"]) and _is_index(ev["end"]) and ev["start"] < ev["end"])
        if not ok:
            raise _fail(where, f"'evidence[{i}]' must be {{'doc_id': str, 'start': int, 'end': int > start, "
                               f"'text': str}}, got {ev!r}")
        doc = lookup(ev["doc_id"])
        if doc is None:
            raise _fail(where, f"'evidence[{i}]': document {ev['doc_id']!r} not found (looked in "
                               f"{', '.join(str(d) for d in DOC_DIRS)})")
        found = doc[ev["start"]:ev["end"]]
        if found != ev["text"]:
            raise _fail(where, f"'evidence[{i}]': {ev['doc_id']}[{ev['start']}:{ev['end']}] is "
                               f"{found[:80]!r}, not {ev['text'][:80]!r}")
        sids = sentence_ids_for(doc, ev["doc_id"], ev["start"], ev["end"])
        out.append(Evidence(ev["doc_id"], ev["start"], ev["end"], ev["text"], sids))
    return tuple(out)


def _parse_history(value: Any, where: str) -> tuple[Turn, ...]:
    if not isinstance(value, list):
        raise _fail(where, f"'history' must be a list of messages, got {value!r}")
    turns = []
    for i, m in enumerate(value):
        if (not isinstance(m, dict) or set(m) != {"role", "content"}
                or m["role"] not in ("user", "assistant") or not isinstance(m["content"], str)):
            raise _fail(where, f"'history[{i}]' must be {{'role': 'user'|'assistant', 'content': str}}, "
                               f"got {m!r}")
        turns.append(Turn(m["role"], m["content"]))
    return tuple(turns)


def _check_item(item: GoldItem, where: str) -> None:
    """Cross-field rules: answerability matches the category, evidence and facts agree."""
    if item.answerable == (item.category in UNANSWERABLE_CATEGORIES):
        expected = item.category not in UNANSWERABLE_CATEGORIES
        raise _fail(where, f"category {item.category!r} requires answerable={str(expected).lower()}")
    if item.answerable and (not item.must or not item.evidence):
        raise _fail(where, "an answerable item needs at least one 'must' fact and one 'evidence' span")
    if not item.answerable and (item.must or item.evidence):
        raise _fail(where, "an unanswerable item must have empty 'must' and 'evidence'")
    if item.category == "multi_turn" and not item.history:
        raise _fail(where, "a multi_turn item needs a 'history'")
    if item.category == "yes_no" and not item.polarity:
        raise _fail(where, f"a yes_no item's reference must start with Yes or No, got {item.reference!r}")


def parse_item(raw: Any, where: str, line: int = 0, lookup: DocumentLookup | None = None) -> GoldItem:
    """Validate one decoded JSON object into a ``GoldItem``; ``where`` prefixes every error."""
    if not isinstance(raw, dict):
        raise _fail(where, f"expected a JSON object, got {type(raw).__name__}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise _fail(where, f"missing field(s) {missing}")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _fail(where, f"unknown field(s) {unknown}")
    item_id = _nonempty_str(raw["id"], where, "id")
    where = f"{where} (id {item_id})"
    if raw["category"] not in CATEGORIES:
        raise _fail(where, f"unknown category {raw['category']!r}; expected one of {list(CATEGORIES)}")
    if not isinstance(raw["answerable"], bool):
        raise _fail(where, f"'answerable' must be true or false, got {raw['answerable']!r}")
    if raw["split"] not in SPLITS:
        raise _fail(where, f"'split' must be one of {list(SPLITS)}, got {raw['split']!r}")
    if not isinstance(raw.get("doc_id", ""), str):
        raise _fail(where, f"'doc_id' must be a document file name, got {raw['doc_id']!r}")
    if raw.get("benchmark", "") not in ("", *BENCHMARKS):
        raise _fail(where, f"'benchmark' must be one of {list(BENCHMARKS)}, got {raw['benchmark']!r}")
    item = GoldItem(
        id=item_id, category=raw["category"], question=_nonempty_str(raw["question"], where, "question"),
        answerable=raw["answerable"], reference=_nonempty_str(raw["reference"], where, "reference"),
        must=_parse_must(raw["must"], where),
        evidence=_parse_evidence(raw["evidence"], where, lookup or find_document),
        split=raw["split"], history=_parse_history(raw.get("history", []), where),
        doc_id=raw.get("doc_id", ""),
        benchmark=raw.get("benchmark", ""), line=line,
    )
    _check_item(item, where)
    return item


def parse_lines(lines: Iterable[str], source: str = "<gold>",
                documents: Mapping[str, str] | None = None) -> list[GoldItem]:
    """Parse JSON Lines text (blank lines skipped); ids must be unique.

    ``documents`` maps doc_id -> text for checking evidence spans; without it documents are
    looked up by file name in ``DOC_DIRS``.
    """
    lookup: DocumentLookup = documents.get if documents is not None else find_document
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{source}:{n}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(where, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
        item = parse_item(raw, where, line=n, lookup=lookup)
        if item.id in seen:
            raise _fail(where, f"duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = n
        items.append(item)
    return items


@lru_cache(maxsize=64)
def find_document(doc_id: str) -> str | None:
    """The text of ``doc_id`` as ingest reads it (``ingest.loaders``), or ``None`` if not found."""
    from ingest.loaders import load_file

    for folder in DOC_DIRS:
        path = folder / doc_id
        if path.is_file():
            return load_file(path).text
    return None


def load_gold(path: Path | str = GOLD_PATH, documents: Mapping[str, str] | None = None) -> list[GoldItem]:
    """Load and validate the question set at ``path`` (spans checked against the documents)."""
    path = Path(path)
    return parse_lines(path.read_text(encoding="utf-8").splitlines(), source=str(path), documents=documents)


def check_evidence(items: Iterable[GoldItem], sentence_keys: Iterable[tuple[str, int]]) -> list[str]:
    """Problems where a gold evidence sentence is not in the index (empty list when all resolve).

    The spans were checked against the documents on load; this checks that the index holds
    the same sentences (an index built with another splitter would not).
    """
    known = set(sentence_keys)
    return [f"line {it.line} (id {it.id}): evidence {ev.doc_id}#{sid} is not an indexed sentence"
            for it in items for ev in it.evidence for sid in ev.sentence_ids if (ev.doc_id, sid) not in known]


def select(items: Iterable[GoldItem], categories: Iterable[str] | None = None,
           limit: int | None = None, split: str | None = None) -> list[GoldItem]:
    """Filter by category (``None``: all) and split (``None``: both); keep at most ``limit`` items."""
    wanted = set(categories or [])
    unknown = wanted - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown category {sorted(unknown)}; expected some of {list(CATEGORIES)}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
    out = [it for it in items
           if (not wanted or it.category in wanted) and (split is None or it.split == split)]
    return out[:limit] if limit is not None else out
