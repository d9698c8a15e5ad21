"""What resolving a follow-up needs from the documents, looked up instead of scanned.

Why: ``conversation.resolve`` finds the sentences the previous answer quoted (or mostly
repeats) and whether a name in the conversation is a person the documents tag, by reading every
allowed sentence: 12-17 s per question with a history at 106k sentences, i.e. every turn of a
chat after the first. From ``Settings.ann_min_sentences`` on, the engine hands ``resolve`` this
lookup instead:

* ``quoted(answer, allowed)``: the sentences that may be quoted in or overlap ``answer``, from
  the saved BM25 index's postings (which rows hold which terms). A sentence with at least 60% of
  its distinct terms in the answer is kept exactly as the scan would (the same count, from the
  postings); a quoted sentence has all its terms in the answer but those of its first and last
  words (``resolve`` trims one character at each end), so rows missing at most two are kept too,
  and so are sentences without any term (a few, which only the text test can match).
  ``resolve`` then applies its own tests to these few rows only.
* ``is_person_word(word, allowed)``: the cache's ``person_words.json`` (folded word of a PERSON
  entity -> documents), exactly the set the scan built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.core.types import Sentence
from assistant.language.conversation import CITED_OVERLAP
from assistant.language.text import content_terms
from assistant.retrieval.bm25_mmap import EMPTY_TERM


class FollowUpLookup:
    """Per-snapshot lookups for ``conversation.resolve`` (see the module docstring)."""

    def __init__(self, sentences: Sequence[Sentence], bm25: Any, person_words: dict[str, list[int]],
                 doc_starts: Any) -> None:
        """``bm25``: a ``SavedBM25``; ``doc_starts(positions)``: first rows of those documents."""
        self._sentences = sentences
        self._bm25 = bm25
        self._person_words = person_words
        self._doc_starts = doc_starts
        self._terms_per_row: np.ndarray | None = None
        self._termless: np.ndarray | None = None  # rows with no content term (bm25s's placeholder)

    def bind(self, allowed: np.ndarray | None) -> BoundLookup:
        """This lookup within a document filter (``allowed``: a row mask, None for all)."""
        return BoundLookup(self, allowed)

    def quoted(self, answer_text: str, allowed: np.ndarray | None) -> list[Sentence]:
        """Allowed sentences that may be quoted in or overlap ``answer_text``, in row order."""
        if self._terms_per_row is None or self._termless is None:
            self._termless = self._bm25.rows_holding({EMPTY_TERM}) > 0
            self._terms_per_row = self._bm25.terms_per_row()
        per_row = self._terms_per_row
        hits = self._bm25.rows_holding(set(content_terms(answer_text)))
        overlapping = hits >= CITED_OVERLAP * per_row - 1e-9
        keep = ((hits >= 1) & ((hits >= per_row - 2) | overlapping)) | self._termless
        if allowed is not None:
            keep &= allowed
        return [self._sentences[int(i)] for i in np.flatnonzero(keep)]

    def is_person_word(self, word: str, allowed: np.ndarray | None) -> bool:
        """Does an allowed sentence tag ``word`` (folded) as part of a person's name?"""
        docs = self._person_words.get(word)
        if not docs:
            return False
        if allowed is None:
            return True
        return bool(allowed[self._doc_starts(docs)].any())


class BoundLookup:
    """``FollowUpLookup`` within one question's document filter: what ``resolve`` calls."""

    def __init__(self, lookup: FollowUpLookup, allowed: np.ndarray | None) -> None:
        self._lookup = lookup
        self._allowed = allowed

    def quoted(self, answer_text: str) -> list[Sentence]:
        return self._lookup.quoted(answer_text, self._allowed)

    def is_person_word(self, word: str) -> bool:
        return self._lookup.is_person_word(word, self._allowed)
