"""The corpus facts the answerer reads, as one typed interface: ``CorpusSentences``, ``CorpusTerms``.

Why: the query cache (``assistant.index.snapshot``) stores, when it is built, what a question
would otherwise compute from every sentence (document frequencies, each sentence's words, who
each document names, ...). The answerer (``assistant.answering.support``) reads those facts
through these two interfaces and has no second way of computing them; the cache's tables are
their only implementations, and an index held in memory is written into the same tables
(``assistant.index.memory``). They live here, in the lowest layer, because the answerer may not
import the index layer that implements them.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from assistant.core.types import Sentence


class CorpusSentences(Sequence[Sentence]):
    """Every sentence in (document, sentence id) order, with what the cache build computed per
    sentence and per document."""

    @abstractmethod
    def sentence_words(self, i: int) -> list[str]:
        """``language.text.words`` of sentence ``i``."""

    @abstractmethod
    def doc_people(self, doc_id: str) -> tuple[dict[str, str], str] | None:
        """(last-name key -> fullest person name, main actor's key or '') of ``doc_id``
        (``answering.support.document_people``); None for a document without sentences."""


class CorpusTerms(Sequence[list[str]]):
    """Each sentence's ``content_terms``, with the corpus statistics computed from all of them."""

    @abstractmethod
    def document_frequencies(self) -> dict[str, int]:
        """term -> how many sentences hold it."""

    @abstractmethod
    def corpus_names(self) -> frozenset[str]:
        """Every term and name key of every sentence (``answering.support.sentence_names``)."""

    @abstractmethod
    def entity_labels(self) -> dict[str, list[str]]:
        """Name key -> labels of the entities with it (``answering.support.entity_label_index``)."""
