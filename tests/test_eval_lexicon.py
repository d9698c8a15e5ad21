"""No lexicon entry may exist only because a gold question needs it.

The answerer's country/demonym aliases (``assistant.language.text``) and the role words it strips
from entity answers (``assistant.language.patterns.ROLE_TITLE_WORDS``) must be general knowledge:
each entry is either in a public country table (names, official names, ISO codes, capitals,
demonyms; ``assistant/data/countries.tsv`` from mledoze/countries, ODbL) or a word of some
shipped document. An entry that appears in an eval question but in neither is there for that
question alone, and fails this test.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from assistant.language.patterns import ROLE_TITLE_WORDS
from assistant.language.text import _ALIAS_GROUPS, COUNTRY_TABLE, country_rows, words
from eval.dataset import DOC_DIRS, EVAL_DIR

COUNTRIES = COUNTRY_TABLE


@cache
def public_words() -> frozenset[str]:
    """Every name, code, capital and demonym of the public table, as single tokens and as
    underscore-joined phrases (the alias table writes "united_states"); plural demonyms too."""
    out: set[str] = set()
    for row in country_rows(COUNTRIES):
        for cell in row:
            for name in cell.split("|"):
                toks = words(name)
                out.update(toks)
                out.add("_".join(toks))
                out.update(t + "s" for t in toks)
    return frozenset(out)


@cache
def document_words() -> frozenset[str]:
    texts = [p.read_text(encoding="utf-8") for d in DOC_DIRS if d.is_dir() for p in d.glob("*.txt")]
    return frozenset(w for t in texts for w in words(t))


@cache
def question_words() -> frozenset[str]:
    out: set[str] = set()
    for path in [*EVAL_DIR.glob("data/*.jsonl"), *EVAL_DIR.glob("data/*/*.jsonl")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                text = " ".join([raw["question"], *(m["content"] for m in raw.get("history", []))])
                out.update(words(text))
    return frozenset(out)


def only_for_questions(entries: set[str]) -> list[str]:
    """Entries that some eval question uses, that no document uses and no public table holds."""
    return sorted(e for e in entries
                  if e in question_words() and e not in document_words() and e not in public_words())


def test_country_table_is_shipped_with_its_source() -> None:
    head = COUNTRIES.read_text(encoding="utf-8")[:600]
    assert "mledoze/countries" in head and "ODbL" in head
    assert {"italy", "rome", "italian", "united_states", "americans", "usa"} <= public_words()


def test_no_alias_exists_only_for_a_gold_question() -> None:
    entries = {w for group in _ALIAS_GROUPS for w in group.split()}
    assert only_for_questions(entries) == []


def test_no_stripped_role_word_exists_only_for_a_gold_question() -> None:
    assert only_for_questions(set(ROLE_TITLE_WORDS)) == []


def test_the_check_catches_a_word_only_a_question_uses() -> None:
    # "elysee" and "kremlin" were aliases once: only gold questions used them.
    assert only_for_questions({"elysee", "kremlin", "france", "moscow"}) == ["elysee", "kremlin"]


def test_removed_government_seats_stay_out() -> None:
    entries = {w for group in _ALIAS_GROUPS for w in group.split()}
    assert not entries & {"elysee", "kremlin", "continent", "downing", "washington", "rome"}


def test_documents_are_found() -> None:
    assert any(Path(d).is_dir() for d in DOC_DIRS) and "moscow" in document_words()
