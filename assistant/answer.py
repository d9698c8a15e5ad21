"""Extractive, grounded answer composition (placeholder: top sentence)."""

from __future__ import annotations

from assistant.cite import citation_for
from assistant.conversation import Turn
from assistant.types import Answer


def answer_question(turn, retriever, documents, allowed, top_k):  # noqa: ANN001
    hits = retriever.search(turn.query, top_k, allowed)
    if not hits or hits[0].dense < 0.3:
        return Answer(text="The documents do not say.", refused=True, standalone_question=turn.query)
    c = citation_for(hits[0].sentence, hits[0].score)
    return Answer(text=f"{c.text} [1]", refused=False, citations=[c], standalone_question=turn.query)
