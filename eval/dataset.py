"""Gold Q&A items: load ``eval/data/gold.jsonl`` and validate it into frozen dataclasses.

Why validate strictly: a typo in a hand-written gold file (a missing ``must``, an evidence id
that points past the end of the article, an unanswerable item with evidence) silently skews
every score computed from it. Every problem is reported with the file and line it is on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOLD_PATH = Path(__file__).resolve().parent / "data" / "gold.jsonl"

CATEGORIES: tuple[str, ...] = (
    "factoid", "numeric", "list", "yes_no", "why", "paraphrase", "not_in_article", "off_topic",
    "multi_turn", "arithmetic", "false_premise", "prompt_injection",
)
# Categories whose questions the documents cannot answer: the right behaviour is a refusal.
UNANSWERABLE_CATEGORIES = frozenset({"not_in_article", "off_topic", "prompt_injection"})

_REQUIRED = ("id", "category", "question", "answerable", "reference", "must", "evidence")
_OPTIONAL = ("history",)


class GoldDataError(ValueError):
    """The gold file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class Evidence:
    """One gold supporting sentence, addressed like a ``Citation``: (doc_id, sentence_id)."""

    doc_id: str
    sentence_id: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.sentence_id)


@dataclass(frozen=True)
class Turn:
    """One earlier message of a multi-turn item (the usual chat-messages shape)."""

    role: str
    content: str


@dataclass(frozen=True)
class GoldItem:
    """A question with what a correct, grounded answer must contain and cite.

    ``must`` is a tuple of key facts; each fact is a tuple of acceptable alternative strings
    (any one of them satisfies the fact). ``evidence`` lists the sentences that support it.
    """

    id: str
    category: str
    question: str
    answerable: bool
    reference: str
    must: tuple[tuple[str, ...], ...]
    evidence: tuple[Evidence, ...]
    history: tuple[Turn, ...] = ()
    line: int = 0

    @property
    def evidence_keys(self) -> frozenset[tuple[str, int]]:
        return frozenset(e.key for e in self.evidence)

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


def _parse_evidence(value: Any, where: str) -> tuple[Evidence, ...]:
    if not isinstance(value, list):
        raise _fail(where, f"'evidence' must be a list, got {value!r}")
    out = []
    for i, ev in enumerate(value):
        ok = (isinstance(ev, dict) and set(ev) == {"doc_id", "sentence_id"}
              and isinstance(ev["doc_id"], str) and ev["doc_id"]
              and isinstance(ev["sentence_id"], int) and not isinstance(ev["sentence_id"], bool)
              and ev["sentence_id"] >= 0)
        if not ok:
            raise _fail(where, f"'evidence[{i}]' must be {{'doc_id': str, 'sentence_id': int >= 0}}, "
                               f"got {ev!r}")
        out.append(Evidence(ev["doc_id"], ev["sentence_id"]))
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


def parse_item(raw: Any, where: str, line: int = 0) -> GoldItem:
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
    category = raw["category"]
    if category not in CATEGORIES:
        raise _fail(where, f"unknown category {category!r}; expected one of {list(CATEGORIES)}")
    if not isinstance(raw["answerable"], bool):
        raise _fail(where, f"'answerable' must be true or false, got {raw['answerable']!r}")
    item = GoldItem(
        id=item_id, category=category, question=_nonempty_str(raw["question"], where, "question"),
        answerable=raw["answerable"], reference=_nonempty_str(raw["reference"], where, "reference"),
        must=_parse_must(raw["must"], where), evidence=_parse_evidence(raw["evidence"], where),
        history=_parse_history(raw.get("history", []), where), line=line,
    )
    if item.answerable == (category in UNANSWERABLE_CATEGORIES):
        expected = category not in UNANSWERABLE_CATEGORIES
        raise _fail(where, f"category {category!r} requires answerable={str(expected).lower()}")
    if item.answerable and (not item.must or not item.evidence):
        raise _fail(where, "an answerable item needs at least one 'must' fact and one 'evidence' sentence")
    if not item.answerable and (item.must or item.evidence):
        raise _fail(where, "an unanswerable item must have empty 'must' and 'evidence'")
    if category == "multi_turn" and not item.history:
        raise _fail(where, "a multi_turn item needs a 'history'")
    return item


def parse_lines(lines: Iterable[str], source: str = "<gold>") -> list[GoldItem]:
    """Parse JSON Lines text (blank lines skipped); ids must be unique."""
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
        item = parse_item(raw, where, line=n)
        if item.id in seen:
            raise _fail(where, f"duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = n
        items.append(item)
    return items


def load_gold(path: Path | str = GOLD_PATH) -> list[GoldItem]:
    """Load and validate the gold set at ``path``."""
    path = Path(path)
    return parse_lines(path.read_text(encoding="utf-8").splitlines(), source=str(path))


def check_evidence(items: Iterable[GoldItem], sentence_keys: Iterable[tuple[str, int]]) -> list[str]:
    """Problems where a gold evidence sentence is not in the index (empty list when all resolve).

    Kept apart from parsing because it needs the indexed sentences; the eval CLI and the tests
    call it so a re-split article cannot leave gold evidence pointing at the wrong sentences.
    """
    known = set(sentence_keys)
    return [f"line {it.line} (id {it.id}): evidence {ev.doc_id}#{ev.sentence_id} is not an indexed sentence"
            for it in items for ev in it.evidence if ev.key not in known]


def select(items: Iterable[GoldItem], categories: Iterable[str] | None = None,
           limit: int | None = None) -> list[GoldItem]:
    """Filter by category (``None``: all) and keep at most ``limit`` items per run."""
    wanted = set(categories or [])
    unknown = wanted - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown category {sorted(unknown)}; expected some of {list(CATEGORIES)}")
    out = [it for it in items if not wanted or it.category in wanted]
    return out[:limit] if limit is not None else out
