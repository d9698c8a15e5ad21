"""Per-row and per-key values computed on first access and kept (the answerer's lazy tables).

Why: the support context used to compute every sentence's term and name sets when the first
question came, 45 s at 106k sentences; a question reads a few dozen rows. Computing a row when
it is first read and keeping it gives the same values at a cost that follows the questions,
not the corpus. Both classes are safe to share between threads: a race computes a value twice
and keeps one of two equal results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

T = TypeVar("T")
K = TypeVar("K")


class LazyRows(Sequence[T]):
    """``rows[i] == make(i)``, each computed once, when first read."""

    def __init__(self, n: int, make: Callable[[int], T]) -> None:
        self._make = make
        self._memo: list[T | None] = [None] * n
        self._complete = False

    def __len__(self) -> int:
        return len(self._memo)

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self._memo)
            if i < 0:  # a second wrap of the list below would read another row
                raise IndexError("row index out of range")
        value = self._memo[i]  # IndexError past the end, as a list would
        if value is None:
            value = self._memo[i] = self._make(i)
        return value

    def __iter__(self) -> Iterator[T]:
        for i in range(len(self._memo)):
            yield self[i]

    def all_rows(self) -> list[T]:
        """Every row, the missing ones computed now: one full pass, after which the kept list
        is returned as it is (read it, do not change it)."""
        if not self._complete:
            for i in range(len(self._memo)):
                self[i]
            self._complete = True
        return self._memo  # type: ignore[return-value]


class LazyMap(Generic[K, T]):
    """A read-only mapping whose value for a key is ``make(key)``, computed once; ``make``
    raises ``KeyError`` for keys that have no value (``get`` then gives the default)."""

    def __init__(self, make: Callable[[K], T]) -> None:
        self._make = make
        self._memo: dict[K, T] = {}
        self._missing: set[K] = set()

    def __getitem__(self, key: K) -> T:
        if key in self._memo:
            return self._memo[key]
        if key in self._missing:
            raise KeyError(key)
        try:
            value = self._make(key)
        except KeyError:
            self._missing.add(key)
            raise
        self._memo[key] = value
        return value

    @overload
    def get(self, key: K) -> T | None: ...
    @overload
    def get(self, key: K, default: T) -> T: ...

    def get(self, key: K, default: T | None = None) -> T | None:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True
