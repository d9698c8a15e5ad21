"""``Assistant``: loads the index once and answers questions over it.

Thread-safe: the index and models are loaded once under a lock; answering only reads them.
``reload()`` swaps in a fresh snapshot after an ingest (the UI calls it after uploads).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant.backends.context import AnswerContext
from assistant.core.errors import AssistantError, QuestionError
from assistant.core.settings import Settings
from assistant.core.types import Answer, Document, Message, Reason, Sentence

if TYPE_CHECKING:  # for the checker only: ``import assistant`` loads none of these
    import numpy as np

    from assistant.answering.decision.model import DecisionModel
    from assistant.answering.policy import AnswerPolicy
    from assistant.answering.support import SentenceContext
    from assistant.core.doc_rows import DocRows
    from assistant.index.snapshot import IndexSnapshot
    from assistant.language.conversation import Turn
    from assistant.retrieval.embedder import Embedder
    from assistant.retrieval.followup_lookup import FollowUpLookup
    from assistant.retrieval.retrieve import SentenceRetriever

log = logging.getLogger(__name__)


class Assistant:
    """Answers questions about the indexed documents with exact sentence citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        snapshot: IndexSnapshot | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """``snapshot``: the index to answer from (default: the configured one, read on first
        use; ``assistant.index.memory.snapshot_from_rows`` makes one from plain rows);
        ``embedder``: the question embedder (default: the configured model)."""
        self.settings = settings or Settings.from_env()
        self._snapshot: IndexSnapshot | None = snapshot
        self._embedder: Embedder | None = embedder
        self._retriever: SentenceRetriever | None = None
        self._decision: DecisionModel | None = None
        self._policy: AnswerPolicy | None = None  # the rules' numbers (None: their defaults)
        self._support: tuple[SentenceRetriever, SentenceContext] | None = None  # (retriever, its context)
        self._vocab: tuple[IndexSnapshot, frozenset[str]] | None = None
        self._rows: tuple[IndexSnapshot, DocRows] | None = None
        self._lookup: tuple[IndexSnapshot, FollowUpLookup | None] | None = None
        self._lock = threading.RLock()
        self._own_index = snapshot is None  # loaded from the settings: follows other processes' ingests
        self._followed_at = time.monotonic()

    # -- loading -----------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if self._retriever is not None:
            return
        with self._lock:
            if self._retriever is not None:
                return
            from assistant.index.index_view import read_snapshot
            from assistant.retrieval.embedder import get_query_embedder

            snapshot = self._snapshot or read_snapshot(self.settings)
            self._embedder = self._embedder or get_query_embedder(self.settings.resolved_model_path())
            self._decision = self._decision or self._load_decision()
            self._snapshot, self._retriever = snapshot, self._make_retriever(snapshot)

    def _make_retriever(self, snapshot: IndexSnapshot) -> SentenceRetriever:
        from assistant.retrieval.retrieve import SentenceRetriever

        assert self._embedder is not None  # loaded with the snapshot
        return SentenceRetriever(
            snapshot.sentences,
            snapshot.embeddings,
            self._embedder,
            dense_weight=self.settings.dense_weight,
            bm25_weight=self.settings.bm25_weight,
            fusion=self.settings.fusion,
            rrf_k=self.settings.rrf_k,
            terms=snapshot.terms,
            bm25_dir=snapshot.bm25_dir,
            ivf_dir=snapshot.ivf_dir,
            ann_min_sentences=self.settings.ann_min_sentences,
            ann_nprobe=self.settings.ann_nprobe,
            ann_bm25_candidates=self.settings.ann_bm25_candidates,
        )

    def _load_decision(self) -> DecisionModel:
        """The decision model (``ASSISTANT_DECISION_MODEL``, default: the shipped one); a missing
        or broken file raises ``DecisionModelError`` saying how to rebuild it."""
        from assistant.answering.decision import load_decision_model

        return load_decision_model(self.settings.decision_model or None)

    def use_decision_model(self, model: DecisionModel) -> None:
        """Decide with ``model`` (an ``assistant.answering.decision.DecisionModel``) from now on: what the
        training scripts and tests pass instead of the shipped file."""
        with self._lock:
            self._decision = model

    def reload(self) -> None:
        """Re-read the index (after documents were added or removed)."""
        if self._retriever is None:
            self._ensure_loaded()
            return
        from assistant.index.index_view import read_snapshot

        # Build the new index view first, then swap: a question asked meanwhile (another
        # visitor's, during an upload) keeps answering from the old one, never from None.
        snapshot = read_snapshot(self.settings)
        retriever = self._make_retriever(snapshot)
        with self._lock:
            self._snapshot, self._retriever = snapshot, retriever

    def _follow_ingests(self) -> None:
        """Answer from the newest index: when this assistant loaded the configured embedded
        index (not a snapshot it was given) and another process's ingest has since made a newer
        generation (the cache's ``CURRENT``), reload, at most every ``follow_ingests_s`` seconds.
        A newer index that cannot be opened is logged and the loaded one keeps answering. With a
        Chroma server the generation lives there (a request per check): ``reload()`` it is."""
        interval = self.settings.follow_ingests_s
        snapshot = self._snapshot
        if not self._own_index or snapshot is None or self.settings.chroma_host or interval < 0:
            return
        now = time.monotonic()
        if now - self._followed_at < interval:
            return
        self._followed_at = now
        from assistant.index.snapshot import cache_root, current_generation

        generation = current_generation(cache_root(self.settings))
        if generation and generation != snapshot.generation:
            log.debug("index generation %s -> %s: reloading", snapshot.generation, generation)
            try:
                self.reload()
            except AssistantError as exc:
                log.warning("the index changed but could not be reloaded (%s); answering from the loaded one",
                            exc)

    @property
    def retriever(self) -> SentenceRetriever:
        """The ``SentenceRetriever`` over the loaded index (public: the eval and the LLM backend
        search with it)."""
        return self._loaded()[1]

    @property
    def documents(self) -> Mapping[str, Document]:
        return self._loaded()[0].documents

    @property
    def sentences(self) -> Sequence[Sentence]:
        return self._loaded()[0].sentences

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        snapshot, _retriever = self._loaded()
        return [snapshot.sentences[int(i)] for i in self._doc_rows(snapshot).rows(doc_id)]

    def _loaded(self) -> tuple[IndexSnapshot, SentenceRetriever]:
        """(snapshot, retriever) of one load, read together: ``reload`` swaps both under the
        lock, and a question must not mix them (a document mask has its snapshot's length,
        the follow-up lookup pairs the snapshot's rows with the retriever's BM25)."""
        self._ensure_loaded()
        with self._lock:
            assert self._snapshot is not None and self._retriever is not None  # loaded above
            return self._snapshot, self._retriever

    # -- answering ---------------------------------------------------------------------
    def ask(
        self,
        question: object,
        history: Sequence[Any] | None = None,
        *,
        doc_ids: Sequence[str] | None = None,
        top_k: int | None = None,
        backend: str | None = None,
    ) -> Answer:
        """Answer ``question`` (optionally following ``history``) from the documents.

        Never raises for a bad question: the ``Answer`` then has ``refused=True`` and
        ``error`` set to a message meant for the user. Index problems (missing or corrupt
        index) are raised as ``AssistantError`` subclasses, since no answer is possible.
        """
        t0 = time.perf_counter()
        try:
            args = self._validate(question, history, doc_ids, top_k, backend)
        except QuestionError as exc:
            raw_q = question if isinstance(question, str) else ""
            return _invalid(str(exc), raw_q[:200])
        self._follow_ingests()
        documents = self._loaded()[0].documents
        unknown = [d for d in args.doc_ids or () if d not in documents]
        if unknown:
            msg = f"Unknown document(s) {unknown}; indexed: {sorted(documents)}"
            return _invalid(msg, args.asked)
        answer = self._answer(args)
        if args.doc_ids:
            answer = self._hold_filter(answer, args.doc_ids)
        return replace(
            answer,
            question=args.asked,
            timings={**answer.timings, "total_ms": (time.perf_counter() - t0) * 1000},
        )

    def _validate(
        self, question: object, history: object, doc_ids: object, top_k: object, backend: object
    ) -> _Request:
        """Every argument cleaned, or ``QuestionError`` naming the bad one."""
        from assistant.requests.validate import (
            clean_backend,
            clean_doc_ids,
            clean_history,
            clean_question,
            clean_text,
            clean_top_k,
        )

        s = self.settings
        q = clean_question(question, s.max_question_chars)
        return _Request(
            question=q,
            asked=clean_text(question, nfkc=False) if isinstance(question, str) else q,
            history=clean_history(history, s.max_history_messages, s.max_history_chars),
            doc_ids=clean_doc_ids(doc_ids),
            top_k=clean_top_k(top_k, s.top_k, s.max_top_k),
            backend=clean_backend(backend, s.backend),
        )

    def _answer(self, args: _Request) -> Answer:
        """Resolve the conversation and answer, all within the document filter if one is set."""
        from assistant.language.conversation import resolve

        snapshot, retriever = self._loaded()
        allowed = None
        sentences: Sequence[Sentence] = snapshot.sentences
        if args.doc_ids:
            # per document, not per sentence: a range of rows each (``assistant.core.doc_rows``), and
            # the filtered list is a view that reads rows only if the conversation needs them
            from assistant.core.doc_rows import RowView

            allowed = self._doc_rows(snapshot).mask(args.doc_ids)
            sentences = RowView(sentences, allowed.nonzero()[0])
        # the filter holds while resolving too: the earlier answer's sentences, the person it
        # was about, and the "next" sentence are looked up among the allowed documents only
        lookup = self._followup_lookup(snapshot, retriever) if args.history else None
        turn = resolve(args.question, args.history, sentences, lookup.bind(allowed) if lookup else None)
        problem = self._reading_problem(turn, snapshot)
        if problem:
            kind, message = problem
            reason = Reason.NO_ANTECEDENT if kind == "follow_up" else Reason.UNREADABLE
            return Answer(
                text=message, refused=True, standalone_question=turn.query, kind=kind, reason=reason
            )
        from assistant.backends.registry import get_backend

        context = self._answer_context(snapshot, retriever, allowed, args.top_k)
        return get_backend(args.backend).answer(turn, context)

    def use_answer_policy(self, policy: AnswerPolicy) -> None:
        """Answer with ``policy`` (an ``assistant.answering.policy.AnswerPolicy``): the hand-set
        numbers of the rules, passed in (``eval.tune_policy`` tries values this way)."""
        with self._lock:
            self._policy, self._support = policy, None

    def _support_for(self, snapshot: IndexSnapshot, retriever: SentenceRetriever) -> SentenceContext:
        """The support context over ``snapshot``'s tables (``retriever``'s sentences), built on
        first use and kept while that retriever is the one in force (``reload`` makes a new one)."""
        with self._lock:
            if self._support is None or self._support[0] is not retriever:
                from assistant.answering.support import SentenceContext

                self._support = (retriever, SentenceContext(snapshot.sentences, snapshot.terms, self._policy))
            return self._support[1]

    def answer_context(self, allowed: np.ndarray | None = None, top_k: int | None = None) -> AnswerContext:
        """What a backend answers from (index loaded first): the retriever, the documents, the
        document filter ``allowed`` (a bool mask over the sentences, ``None``: all), the decision model."""
        return self._answer_context(*self._loaded(), allowed, top_k)

    def _answer_context(
        self,
        snapshot: IndexSnapshot,
        retriever: SentenceRetriever,
        allowed: np.ndarray | None,
        top_k: int | None,
    ) -> AnswerContext:
        return AnswerContext(
            retriever=retriever,
            documents=snapshot.documents,
            allowed=allowed,
            top_k=self.settings.top_k if top_k is None else top_k,
            settings=self.settings,
            decision=self._decision,
            support=self._support_for(snapshot, retriever),
        )

    def _reading_problem(self, turn: Turn, snapshot: IndexSnapshot) -> tuple[str, str] | None:
        """(kind, message) when the question cannot be matched to ``snapshot``'s documents as asked."""
        from assistant.language.check import language_problem, nothing_to_look_for

        message = language_problem(turn.question, self._vocabulary(snapshot))
        if message:
            return "unreadable", message
        if turn.dangling:
            return "follow_up", (
                f"What does “{turn.dangling}” refer to? This is the start of the conversation, so there "
                "is nothing before it to follow on; please ask the whole question (with the name or topic)."
            )
        message = "" if turn.follow_up else nothing_to_look_for(turn.query)
        return ("unreadable", message) if message else None

    def _doc_rows(self, snapshot: IndexSnapshot) -> DocRows:
        """Each document's rows in ``snapshot`` (``DocRows``, cached per snapshot)."""
        cached = self._rows
        if cached is None or cached[0] is not snapshot:
            from assistant.core.doc_rows import DocRows

            cached = (snapshot, DocRows(snapshot.sentences))
            self._rows = cached
        return cached[1]

    def _followup_lookup(
        self, snapshot: IndexSnapshot, retriever: SentenceRetriever
    ) -> FollowUpLookup | None:
        """``FollowUpLookup`` for a large corpus (cached per snapshot; ``retriever`` is the one
        loaded with it, its BM25 the cache's); None below ``ann_min_sentences`` or for an empty
        index, where ``resolve`` reads every allowed sentence as it always did."""
        cached = self._lookup
        if cached is None or cached[0] is not snapshot:
            lookup = None
            sentences = snapshot.sentences
            # the BM25 is the cache's (``SavedBM25``): an empty index has none
            if snapshot.bm25_dir is not None and len(sentences) >= self.settings.ann_min_sentences:
                from assistant.retrieval.followup_lookup import FollowUpLookup

                people = snapshot.documents.person_words()
                lookup = FollowUpLookup(sentences, retriever.bm25, people, sentences.doc_starts)
            cached = (snapshot, lookup)
            self._lookup = cached
        return cached[1]

    def _vocabulary(self, snapshot: IndexSnapshot) -> frozenset[str]:
        """The words ``snapshot``'s documents use (stored by the cache build, read once per
        snapshot): they count as English words."""
        cached = self._vocab
        if cached is None or cached[0] is not snapshot:
            cached = (snapshot, snapshot.documents.words())
            self._vocab = cached
        return cached[1]

    def _hold_filter(self, answer: Answer, doc_ids: list[str]) -> Answer:
        """Nothing outside the filter is shown, and a refusal says the filter was on."""
        wanted = set(doc_ids)
        if answer.error:
            return answer
        if any(c.doc_id not in wanted for c in answer.citations):  # a backend broke the filter
            log.error("answer cited outside the document filter %s; refused instead", doc_ids)
            answer = replace(answer, text="The documents you chose do not say.", refused=True, citations=[])
        related = [c for c in answer.related if c.doc_id in wanted]
        if not answer.refused or answer.reason in (Reason.UNREADABLE, Reason.NO_ANTECEDENT):
            return replace(answer, related=related)  # no note where the filter is beside the point
        n = len(self.documents)
        chosen = ", ".join(doc_ids)
        note = (
            f"(The document filter is on: only {chosen} {'was' if len(doc_ids) == 1 else 'were'} "
            f"searched, not all {n} documents; clear the filter to search them all.)"
        )
        return replace(answer, text=f"{answer.text.rstrip()} {note}", related=related)


@dataclass(frozen=True)
class _Request:
    """The validated arguments of one ``ask`` call."""

    question: str  # cleaned and NFKC-normalised: what is answered
    asked: str  # cleaned only: what the user typed, as ``Answer.question``
    history: list[Message]
    doc_ids: list[str] | None
    top_k: int
    backend: str


def _invalid(message: str, question: str) -> Answer:
    """The answer to unusable input: refused, with the message in ``error`` too."""
    return Answer(
        text=message, refused=True, question=question, error=message, kind="invalid", reason=Reason.INVALID
    )


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The process-wide assistant over the configured index (built on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
        return _default


def ask(question: object, history: Sequence[Any] | None = None, **kwargs: Any) -> Answer:
    """Answer ``question`` from the indexed documents; see ``Assistant.ask``."""
    return default_assistant().ask(question, history, **kwargs)
