"""The one vocabulary every layer speaks: documents, sentences, chunks, citations, answers.

Plain frozen dataclasses so ingest, the answerer, the UI and the eval suite pass the same
objects around (no dicts), and so an ``Answer`` serialises to JSON with ``to_dict``.
The invariant that makes citations trustworthy: ``document.text[s.start:s.end] == s.text``
for every ``Sentence`` ``s`` of that document, and the same for every ``Citation``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Document:
    """A source file as the index knows it: its id, full text and where it came from."""

    doc_id: str
    text: str
    source: str = ""
    content_hash: str = ""
    title: str = ""


@dataclass(frozen=True)
class Entity:
    """A named entity or figure found in a sentence, with offsets relative to the sentence."""

    text: str
    label: str  # PERSON, GPE, NORP, ORG, LOC, DATE, CARDINAL, MONEY, QUANTITY, PERCENT, ...
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    """One sentence (or heading) of a document; ``text == document.text[start:end]``."""

    doc_id: str
    sentence_id: int
    text: str
    start: int
    end: int
    paragraph: int = 0
    is_heading: bool = False
    entities: tuple[Entity, ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        """A globally unique handle: (document id, sentence index)."""
        return (self.doc_id, self.sentence_id)


@dataclass(frozen=True)
class Citation:
    """An exact source sentence that supports an answer: ``document.text[start:end] == text``."""

    text: str
    doc_id: str
    sentence_id: int
    start: int
    end: int
    score: float = 0.0


@dataclass(frozen=True)
class Message:
    """One turn of a conversation in the usual chat-messages shape."""

    role: Role
    content: str

    @classmethod
    def coerce(cls, item: Any) -> Message:
        """Accept a ``Message``, a ``{"role", "content"}`` dict or a ``(role, content)`` pair."""
        if isinstance(item, Message):
            return item
        if isinstance(item, dict):
            role, content = item.get("role"), item.get("content")
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            role, content = item
        else:
            raise TypeError(
                f"history item {item!r} is not a message dict like {{'role': 'user', 'content': '...'}}"
            )
        if role not in ("user", "assistant"):
            raise ValueError(f"history role {role!r} must be 'user' or 'assistant'")
        if isinstance(content, list):  # Gradio multimodal content parts
            content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
        return cls(role=role, content=str(content or ""))


class QuestionKind(StrEnum):
    """What a question asks for (``assistant.language.question`` decides). A ``StrEnum``, so a kind
    still equals its plain string ("who") wherever code or reports compare against one."""

    WHO = "who"
    WHERE = "where"
    WHEN = "when"
    HOW_LONG = "how_long"
    HOW_MANY = "how_many"
    HOW_MUCH = "how_much"
    LIST = "list"
    WHY = "why"
    QUOTE = "quote"
    YESNO = "yesno"
    ARITHMETIC = "arithmetic"  # a difference, sum, ratio, share or remainder of stated figures
    NAME = "name"
    WHAT = "what"


class Reason(StrEnum):
    """Why the answerer decided what it did: a code for developers (the eval report groups
    failures by it; ``--explain`` and DEBUG logs show it), never shown as the user's text."""

    ANSWERED = "answered"  # the decision model found the answer likely enough to give it
    COMPUTED = "computed"  # arithmetic over stated figures
    PREMISE_CORRECTED = "premise_corrected"  # answered by correcting a false premise
    FOLLOW_NEXT = "follow_next"  # "what did he say next?": the sentence after the last one cited
    META = "meta"  # a question about the documents themselves (headings, people named)
    INVALID = "invalid"  # the question or an argument was unusable
    UNREADABLE = "unreadable"  # not English, or nonsense: nothing in it to match to the documents
    NO_ANTECEDENT = "no_antecedent"  # a follow-up ("what did he say next?") with nothing before it
    INJECTION = "injection"  # instructions to do something else
    NO_DOCUMENTS = "no_documents"
    NOT_MENTIONED = "not_mentioned"  # a name the question asks about is in no document
    CONDITION_ABSENT = "condition_absent"  # a topic, condition or figure the question sets is absent
    WRONG_KIND = "wrong_kind"  # no name / place / date / figure of the kind asked for
    COUNTS_OTHER = "counts_other"  # the nearest count counts something else
    LOW_SUPPORT = "low_support"  # no candidate at all
    LOW_CONFIDENCE = "low_confidence"  # the decision model's P(right) is below its answer threshold
    MODEL_DECLINED = "model_declined"  # the LLM said the documents do not say
    LLM_UNCITED = "llm_uncited"  # the LLM's reply cited no sentence it was given
    LLM_UNVERIFIED = "llm_unverified"  # the LLM cited, but no claim's citations held
    LLM_INTERRUPTED = "llm_interrupted"  # the LLM server failed or timed out while answering
    BACKEND_ERROR = "backend_error"  # the answer backend failed (LLM server unreachable): see Answer.error


@dataclass(frozen=True)
class DecisionTrace:
    """The learned decision's inputs and outputs for one answer (eval, training, DEBUG logs):
    each candidate sentence's address, features and P(holds the answer), the direct-answer
    options of the chosen sentence with theirs, and the answer's features and P(right). Names
    of the features: ``assistant.answering.decision.features`` and ``.spans``."""

    candidates: tuple[tuple[str, int], ...] = ()
    candidate_features: tuple[tuple[float, ...], ...] = ()
    candidate_p: tuple[float, ...] = ()
    answer_features: tuple[float, ...] = ()
    p_right: float = -1.0
    # the direct-answer options of the sentence answered from (names, places, dates or figures)
    span_texts: tuple[str, ...] = ()
    span_features: tuple[tuple[float, ...], ...] = ()
    span_p: tuple[float, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What ``ask`` returns.

    ``text`` carries ``[n]`` markers that point into ``citations`` (1-based). ``refused`` is
    True when the documents do not answer the question; then ``related`` may hold sentences
    that are on the topic but are *not* offered as support.
    """

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    question: str = ""
    standalone_question: str = ""
    short_answer: str = ""
    kind: str = ""  # the question type the answerer recognised (who, how_many, list, ...)
    related: list[Citation] = field(default_factory=list)
    backend: str = "extractive"
    error: str = ""  # set when the question itself was unusable (empty, too long, ...)
    timings: dict[str, float] = field(default_factory=dict)
    # The calibrated P(this answer is right), 0..1, from the decision model; -1 when no model
    # judged it (a computed, meta or follow-next answer, a refusal before any candidate).
    confidence: float = -1.0
    reason: str = ""  # a ``Reason`` code: why it was answered or refused
    # how it is shown: "confident" (asserted), "probable" ("Probably ..."), "unsure" (refused with
    # the best candidates as related), "" when no model judged it
    certainty: str = ""
    trace: DecisionTrace | None = None  # the decision's inputs and outputs, for developers
    # The llm backend only. ``fallback``: the ``Reason`` code (llm_uncited, llm_unverified,
    # llm_interrupted) for which the LLM's reply was replaced by the extractive answer, which is
    # then what text and citations hold; ``notice`` says so to the user. ``claims``: the claims
    # in the LLM's reply; ``claims_dropped``: those verification removed (uncited or unsupported).
    fallback: str = ""
    notice: str = ""
    claims: int = 0
    claims_dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (used by the CLI's ``--json`` and the eval reports)."""
        return asdict(self)
