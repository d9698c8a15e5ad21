"""Which rows of the sentence list a document owns, found without a pass over every sentence.

Why: the document filter (the web chat always sends one) and a follow-up's "the sentences the
last answer cited" used to test every sentence per question, which grew with the corpus and
turned every memory-mapped row into a ``Sentence``. The query cache stores sentences in
(document, sentence id) order, so a document's rows are one range (``SentenceTable.doc_range``);
a plain list (a filtered view, tests) is grouped once instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from assistant.core.types import Sentence


class DocRows:
    """``doc_id -> rows`` and ``(doc_id, sentence_id) -> row`` over one sentence list."""

    def __init__(self, sentences: Sequence[Sentence]) -> None:
        self.sentences = sentences
        self._ranged = callable(getattr(sentences, "doc_ranges", None))
        self._groups: dict[str, list[int]] | None = None
        self._keys: dict[tuple[str, int], int] | None = None

    def rows(self, doc_id: str) -> Sequence[int]:
        """The rows of ``doc_id`` in ascending order (empty when it has none)."""
        if self._ranged:
            return self.sentences.doc_range(doc_id)  # type: ignore[attr-defined]
        if self._groups is None:
            groups: dict[str, list[int]] = {}
            for i, s in enumerate(self.sentences):
                groups.setdefault(s.doc_id, []).append(i)
            self._groups = groups
        return self._groups.get(doc_id, [])

    def row_of(self, key: tuple[str, int]) -> int | None:
        """The row of the sentence with ``key`` (its first, for a list that repeats one)."""
        if self._ranged:
            doc_id, sid = key
            r = self.rows(doc_id)
            if 0 <= sid < len(r) and self.sentences[r[sid]].key == key:  # ids are 0..count-1 in order
                return int(r[sid])
            return next((int(i) for i in r if self.sentences[i].key == key), None)
        if self._keys is None:
            keys: dict[tuple[str, int], int] = {}
            for i, s in enumerate(self.sentences):
                keys.setdefault(s.key, i)
            self._keys = keys
        return self._keys.get(key)

    def rows_of_keys(self, keys: Iterable[tuple[str, int]]) -> list[int]:
        """Rows of the sentences with these keys, ascending (unknown keys skipped)."""
        return sorted({r for k in keys if (r := self.row_of(k)) is not None})

    def selection(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Rows of these documents, ascending, as one int64 array."""
        return np.flatnonzero(self.mask(doc_ids))

    def mask(self, doc_ids: Iterable[str]) -> np.ndarray:
        """A bool mask over every row: True for the rows of these documents (built from the
        documents' row ranges: +1 where one starts, -1 where it ends, a running sum)."""
        n = len(self.sentences)
        if not self._ranged:
            allowed = np.zeros(n, dtype=bool)
            for d in dict.fromkeys(doc_ids):
                allowed[np.asarray(self.rows(d), dtype=np.int64)] = True
            return allowed
        starts, stops = self.sentences.doc_ranges(dict.fromkeys(doc_ids))  # type: ignore[attr-defined]
        edges = np.zeros(n + 1, dtype=np.int64)
        np.add.at(edges, starts, 1)
        np.add.at(edges, stops, -1)
        return np.cumsum(edges[:-1]) > 0


class RowView(Sequence[Sentence]):
    """The sentences at ``rows`` of ``base``, read only when looked at (a filtered list that
    costs nothing until someone iterates it)."""

    def __init__(self, base: Sequence[Sentence], rows: np.ndarray) -> None:
        self._base = base
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> Sentence: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sentence]: ...
    def __getitem__(self, i: int | slice) -> Sentence | list[Sentence]:
        if isinstance(i, slice):
            return [self._base[int(j)] for j in self._rows[i]]
        return self._base[int(self._rows[i])]

    def __iter__(self) -> Iterator[Sentence]:
        for j in self._rows.tolist():
            yield self._base[j]
