"""Run gold items through an ``Assistant`` backend and record one ``Outcome`` per item.

Only the public ``Assistant.ask`` API is used to answer. The retrieval ranking for recall@k
and MRR comes from the assistant's retriever when it exposes one (``Assistant.retriever``,
probed with ``getattr`` because other assistants may have none), queried with the answerer's
standalone question; else from the answer's own citations followed by its ``related`` sentences.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tqdm import tqdm

from eval.dataset import GoldItem
from eval.records import Outcome, SentenceRef

# A backend whose first answers all raise is declared failed instead of erroring on every item
# (an unreachable LLM server would otherwise cost a timeout per question).
ABORT_AFTER = 3


@dataclass
class BackendRun:
    """All outcomes of one backend over the selected items, or why it could not run."""

    backend: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)


def _refs(citations: Sequence[Any]) -> tuple[SentenceRef, ...]:
    return tuple(SentenceRef(c.doc_id, int(c.sentence_id), c.text) for c in citations)


def answer_ranking(answer: Any, k: int) -> tuple[SentenceRef, ...]:
    """Fallback ranking when no retriever is exposed: the citations, then ``related``."""
    seen: dict[tuple[str, int], SentenceRef] = {}
    for ref in _refs(list(answer.citations) + list(getattr(answer, "related", []) or [])):
        seen.setdefault(ref.key, ref)
    return tuple(seen.values())[:k]


Ranking = tuple[SentenceRef, ...]


def retriever_rankings(assistant: Any, queries: Sequence[str], k: int,
                       scopes: Sequence[str] | None = None) -> list[Ranking] | None:
    """Top-``k`` sentences per query from the assistant's own retriever, or ``None``.

    The queries are embedded in one batch and scored with ``score_all(query, query_vec=...)``:
    one embedding call instead of one per question keeps the floor test fast. ``scopes`` gives
    per query the document it is asked about ("" = all). ``retriever`` (``Assistant.retriever``)
    is probed, since other assistants may have none, and any failure falls back to ``None``.
    """
    retriever = getattr(assistant, "retriever", None)
    if retriever is None or not queries:
        return None
    scopes = list(scopes) if scopes is not None else [""] * len(queries)
    try:
        vecs = retriever.embedder.embed(list(queries))
        out: list[Ranking] = []
        for query, vec, scope in zip(queries, vecs, scopes, strict=True):
            fused = retriever.score_all(query, query_vec=vec)[0]
            keep = [i for i in range(len(fused)) if not scope or retriever.sentences[i].doc_id == scope]
            order = sorted(keep, key=lambda i: -float(fused[i]))[:k]
            out.append(tuple(SentenceRef(s.doc_id, s.sentence_id, s.text)
                             for s in (retriever.sentences[i] for i in order)))
        return out
    except Exception:  # private API may change: keep the answers' own ranking
        return None


def run_item(assistant: Any, item: GoldItem, backend: str | None, k: int) -> Outcome:
    """Ask one gold question; exceptions become an ``Outcome`` with ``error`` set."""
    t0 = time.perf_counter()
    scope = {"doc_ids": [item.doc_id]} if item.doc_id else {}
    try:
        answer = assistant.ask(item.question, item.history_messages(), backend=backend, **scope)
    except Exception as exc:  # a failing backend is reported, not fatal
        return Outcome(item.id, text="", refused=True, error=f"{type(exc).__name__}: {exc}",
                       latency_ms=(time.perf_counter() - t0) * 1000)
    return outcome_of(item, answer, (time.perf_counter() - t0) * 1000, k)


def outcome_of(item: GoldItem, answer: Any, latency_ms: float, k: int) -> Outcome:
    """The ``Outcome`` of ``answer`` to ``item`` (what the metrics read)."""
    query = getattr(answer, "standalone_question", "") or item.question
    error = getattr(answer, "error", "") or ""
    if error and getattr(answer, "kind", "") != "invalid":
        # Not a rejected question but a backend that could not answer (e.g. LLM server down):
        # report it as an error instead of crediting it as a correct refusal.
        return Outcome(item.id, text=answer.text, refused=True, error=f"answer error: {error}",
                       latency_ms=latency_ms, standalone_question=query)
    return Outcome(
        item_id=item.id, text=answer.text, refused=bool(answer.refused) or bool(error),
        citations=_refs(answer.citations), retrieved=answer_ranking(answer, k),
        latency_ms=latency_ms, kind=getattr(answer, "kind", ""), standalone_question=query,
        short_answer=getattr(answer, "short_answer", "") or "",
        reason=str(getattr(answer, "reason", "") or ""),
        fallback=str(getattr(answer, "fallback", "") or ""),
        claims=int(getattr(answer, "claims", 0) or 0),
        claims_dropped=int(getattr(answer, "claims_dropped", 0) or 0),
        written_by=str(getattr(answer, "backend", "") or ""),
        confidence=float(getattr(answer, "confidence", -1.0)),
        certainty=str(getattr(answer, "certainty", "") or ""),
    )


def run_backend(assistant: Any, items: Sequence[GoldItem], backend: str | None, k: int,
                progress: bool = True) -> BackendRun:
    """Run every item on ``backend`` (``None``: the assistant's configured one)."""
    name = backend or getattr(getattr(assistant, "settings", None), "backend", "default")
    run = BackendRun(name)
    bar = tqdm(items, desc=f"eval[{name}]", unit="q", disable=not progress, leave=False)
    for item in bar:
        outcome = run_item(assistant, item, backend, k)
        run.outcomes.append(outcome)
        if len(run.outcomes) == ABORT_AFTER and all(o.error for o in run.outcomes):
            run.error = f"backend {name!r} failed on its first {ABORT_AFTER} questions: {outcome.error}"
            break
    bar.close()
    if not run.failed:
        by_id = {it.id: it for it in items}
        queries = [o.standalone_question for o in run.outcomes if not o.error]
        scopes = [by_id[o.item_id].doc_id for o in run.outcomes if not o.error]
        ranked = retriever_rankings(assistant, queries, k, scopes)
        if ranked is not None:
            it = iter(ranked)
            run.outcomes = [o if o.error else replace(o, retrieved=next(it)) for o in run.outcomes]
    return run
