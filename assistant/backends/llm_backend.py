"""Optional answer backend: a local LLM behind any OpenAI-compatible server (Ollama, vLLM, llama.cpp).

Selected with ``ASSISTANT_BACKEND=llm`` (or ``ask(..., backend="llm")``, ``--backend llm``).
The model writes the prose; it is never trusted with the citations:

1. the retriever picks ``top_k`` sentences, shown to the model numbered ``[1]..[k]`` under a
   strict system prompt (answer only from them, cite with ``[n]``, or say exactly ``REFUSAL``);
2. the reply is cut into claims, each ending at its group of ``[n]`` markers. A marker that
   points to no provided sentence is dropped; a claim is dropped when its cited sentences do
   not support it (a quote that is not verbatim in them, a number they do not contain, or no
   shared content word), and so is any uncited claim;
3. the surviving markers are renumbered and every citation is built from the *indexed*
   sentence (``citation_for``), so its text is always ``document.text[start:end]`` — a quote
   the model altered can never become a citation;
4. the model refused: ``refused=True`` (``model_declined``); nothing it said could be
   checked: ``refused=True`` with ``llm_uncited`` or ``llm_unverified`` (``assistant.backends.llm_fallback``
   then gives the extractive answer instead).

A server that is down or misconfigured gives an ``Answer`` with ``error`` set (message naming
the URL, the model and how to start one), never a traceback; one that fails mid-answer gives
``llm_interrupted``. Talking to the server is ``assistant.backends.llm_client``'s job.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from assistant.answering.cite import citation_for, is_exact, renumber
from assistant.backends.context import AnswerContext
from assistant.backends.llm_client import (
    INSTALL_HINT,
    ChatFn,
    LLMInterrupted,
    backend_error,
    openai_like_chat,
)
from assistant.core.errors import BackendError
from assistant.core.types import Answer, Citation, Reason
from assistant.language.text import content_terms, fold

if TYPE_CHECKING:
    import numpy as np

    from assistant.language.conversation import Turn
    from assistant.retrieval.retrieve import Hit

__all__ = ["INSTALL_HINT", "REFUSAL", "SYSTEM_PROMPT", "ChatFn", "Verified", "answer_from_context",
           "answer_with_llm", "backend_error", "build_messages", "check_reply", "openai_like_chat",
           "verify_reply"]

REFUSAL = "The documents do not say."
RELATED_ON_REFUSAL = 3

SYSTEM_PROMPT = f"""You answer questions about documents using ONLY the numbered sentences you are given.
Rules:
1. Use only facts stated in the numbered sentences. Do not use outside knowledge or guess.
2. End every claim with the number(s) of the sentence(s) stating it in square brackets: [2] or [1][3].
3. When you quote, copy the words exactly as they appear in the sentence.
4. If the sentences do not contain the answer, reply with exactly: {REFUSAL}
5. Be brief: one to three sentences. Do not mention these rules or the numbering."""

_LIST_MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:,|;|-|–|and)\s*\d+)+)\s*\]")
_MARKER_GROUP = re.compile(r"(?:\s*\[\d+\])+")
_TRAILING_PUNCT = re.compile(r"[.,;:!?)\]\"”’']*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTE = re.compile(r"[\"“”«»]([^\"“”«»]+)[\"“”«»]")


def build_messages(question: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    """The system prompt plus one user message listing the sentences ``[1]..[k]``."""
    numbered = "\n".join(f"[{i}] {' '.join(h.sentence.text.split())}" for i, h in enumerate(hits, 1))
    user = f"Sentences:\n{numbered}\n\nQuestion: {question}\nAnswer (cite with [n]):"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# -- checking the reply ----------------------------------------------------------------------
@dataclass
class _Claim:
    """A piece of the reply and the markers at its end (``punct`` follows the markers)."""

    text: str
    numbers: list[int]
    punct: str = ""


def _normalise_markers(text: str) -> str:
    """``[1, 2]`` / ``[1-3]`` -> ``[1][2]`` / ``[1][2][3]`` so every marker is one ``[n]``."""

    def expand(m: re.Match[str]) -> str:
        body = m.group(1)
        range_ = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", body)
        if range_:
            lo, hi = int(range_.group(1)), int(range_.group(2))
            if 0 < hi - lo < 20:
                return "".join(f"[{n}]" for n in range(lo, hi + 1))
        return "".join(f"[{n}]" for n in re.findall(r"\d+", body))

    return _LIST_MARKER.sub(expand, text)


def _claims(text: str) -> list[_Claim]:
    """Cut the reply after each group of markers; the last claim may have none."""
    out: list[_Claim] = []
    pos = 0
    for m in _MARKER_GROUP.finditer(text):
        if m.start() < pos:
            continue
        punct = _TRAILING_PUNCT.match(text, m.end())
        end = punct.end() if punct else m.end()
        out.append(
            _Claim(
                text[pos : m.start()], [int(n) for n in re.findall(r"\d+", m.group(0))], text[m.end() : end]
            )
        )
        pos = end
    if text[pos:].strip():
        out.append(_Claim(text[pos:], []))
    return out


def _digits(text: str) -> set[str]:
    return {n.replace(",", "").replace(".", "") for n in _NUMBER.findall(text)}


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


def _supported(claim: str, sources: list[str]) -> bool:
    """Does the claim stay within its cited sentences? (quotes, numbers, content words)

    Deliberately lexical: it cannot prove entailment, but it catches what models get wrong
    most often — an altered quote, a changed figure, a marker pointing at the wrong sentence.
    """
    joined = " ".join(sources)
    squashed = _squash(joined)
    for quote in _QUOTE.findall(claim):
        q = _squash(quote)
        if len(q.split()) >= 2 and q not in squashed:
            return False
    source_numbers = _digits(joined)
    for n in _digits(claim):
        if not any(s.startswith(n) for s in source_numbers):  # "167" may restate "167,000 million"
            return False
    terms = set(content_terms(claim))
    if not terms:
        return True
    shared = terms & set(content_terms(joined))
    return len(shared) >= max(1, math.ceil(0.25 * len(terms)))


@dataclass(frozen=True)
class Verified:
    """What verification kept of a reply: the renumbered text, its citations, and counts.

    ``claims`` counts the reply's claims that assert something (content words or figures);
    ``dropped`` those removed (uncited, citing nothing given, or not supported by what they
    cite); ``cited`` whether the reply had any ``[n]`` marker at all.
    """

    text: str
    citations: list[Citation]
    claims: int
    dropped: int
    cited: bool


def check_reply(reply: str, candidates: list[Citation]) -> Verified:
    """Keep only supported claims with markers into ``candidates``; renumber them 1..n.

    A candidate with empty text is never citable. ``text`` is ``""`` and ``citations`` empty
    when nothing verifiable is left.
    """
    text = _normalise_markers(reply.strip())
    kept: list[str] = []
    claims = dropped = 0
    parts = _claims(text)
    for claim in parts:
        asserts = bool(claim.text.strip(" \t\n.,;:!?") and (content_terms(claim.text) or _digits(claim.text)))
        claims += asserts
        if not asserts:  # "The document says: [1]" cites nothing: a marker must back a claim
            kept.append(claim.text + claim.punct)
            continue
        valid = [
            n for n in dict.fromkeys(claim.numbers) if 1 <= n <= len(candidates) and candidates[n - 1].text
        ]
        # A marker is only worth keeping if its sentence shares something with the claim.
        claim_terms = set(content_terms(claim.text))
        valid = [
            n for n in valid if not claim_terms or claim_terms & set(content_terms(candidates[n - 1].text))
        ]
        if not valid or not _supported(claim.text, [candidates[n - 1].text for n in valid]):
            dropped += 1  # uncited, citing nothing given, or not what its sentences say
            continue
        kept.append(claim.text.rstrip() + " " + "".join(f"[{n}]" for n in valid) + claim.punct)
    joined = " ".join(" ".join(kept).split())
    new_text, citations = renumber(joined, candidates)
    cited = any(c.numbers for c in parts)
    if not citations:
        return Verified("", [], claims, claims, cited)
    return Verified(new_text, citations, claims, dropped, cited)


def verify_reply(reply: str, candidates: list[Citation]) -> tuple[str, list[Citation]]:
    """``check_reply`` as ``(text, citations)``; ``("", [])`` when nothing verifiable is left."""
    checked = check_reply(reply, candidates)
    return checked.text, checked.citations


def _is_refusal(reply: str) -> bool:
    """The model's own "the documents do not say" (an empty reply is not one: it said nothing)."""
    bare = _squash(re.sub(r"\[\d+\]", " ", reply))
    return bool(bare) and bare.startswith(_squash(REFUSAL))


# -- the backend -----------------------------------------------------------------------------
class _HasContext(Protocol):
    def answer_context(self, allowed: Any = None, top_k: int | None = None) -> AnswerContext: ...


def answer_with_llm(
    assistant: _HasContext, turn: Turn, allowed: np.ndarray | None, top_k: int, *, chat: ChatFn | None = None
) -> Answer:
    """``answer_from_context`` over an ``Assistant``'s index (its public ``answer_context``)."""
    return answer_from_context(turn, assistant.answer_context(allowed, top_k), chat=chat)


def answer_from_context(turn: Turn, context: AnswerContext, *, chat: ChatFn | None = None) -> Answer:
    """Answer ``turn`` with an LLM over retrieved sentences, keeping only verified citations.

    ``chat`` replaces the server (tests pass a fake); by default it is the OpenAI-compatible
    server of ``context.settings``. Never raises for a server problem: the ``Answer`` then
    has ``refused=True`` and ``error`` saying what to do (``backend_error``), or, when the
    server failed in the middle of this answer, ``reason="llm_interrupted"`` and the message
    in ``notice``. No fallback here: that is ``assistant.backends.llm_fallback``'s decision.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    hits = context.retriever.search(turn.query, context.top_k, context.allowed)
    timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
    candidates = [citation_for(h.sentence, h.score) for h in hits]
    related = candidates[:RELATED_ON_REFUSAL]

    def refuse(code: Reason, error: str = "", notice: str = "", claims: int = 0) -> Answer:
        return Answer(
            text=error or REFUSAL,
            refused=True,
            related=related,
            question=turn.question,
            standalone_question=turn.query,
            backend="llm",
            error=error,
            timings=timings,
            reason=code,
            notice=notice,
            claims=claims,
            claims_dropped=claims,
        )

    if not hits:
        return refuse(Reason.LOW_SUPPORT)
    t1 = time.perf_counter()
    try:
        chat_fn = chat or openai_like_chat(context.settings)
        reply = chat_fn(build_messages(turn.query, hits))
    except LLMInterrupted as exc:
        timings["llm_ms"] = (time.perf_counter() - t1) * 1000
        return refuse(Reason.LLM_INTERRUPTED, notice=str(exc))
    except (BackendError, ImportError) as exc:
        return refuse(Reason.BACKEND_ERROR, str(exc))
    timings["llm_ms"] = (time.perf_counter() - t1) * 1000
    if not isinstance(reply, str):
        return refuse(Reason.LLM_UNCITED)
    if _is_refusal(reply):
        return refuse(Reason.MODEL_DECLINED)
    # Belt and braces: a candidate that is not its document's exact text can never be cited.
    documents = context.documents
    safe = [c if is_exact(c, documents) else Citation("", c.doc_id, c.sentence_id, 0, 0) for c in candidates]
    checked = check_reply(reply, safe)
    if not checked.citations:  # nothing it said could be checked against a source: not an answer
        code = Reason.LLM_UNVERIFIED if checked.cited else Reason.LLM_UNCITED
        return refuse(code, claims=checked.claims)
    return Answer(
        text=checked.text,
        refused=False,
        citations=checked.citations,
        question=turn.question,
        standalone_question=turn.query,
        backend="llm",
        timings=timings,
        reason=Reason.ANSWERED,
        claims=checked.claims,
        claims_dropped=checked.dropped,
    )
