"""The plain baseline every suite row is compared with: MiniLM top-2 sentences, never refusing.

Why this baseline: it is what a user gets from the simplest retrieval-only "assistant" (embed
the question, return the two most similar sentences), so any figure of the real answerer
below it means the rules cost more than they give. It reuses the assistant's own embedder and
sentence vectors (same model, same index) and runs in the same process as the answerer.
Its text is the two sentences, with no short answer, so strict and lenient scoring judge the
same text; it cites both sentences.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.dataset import GoldItem
from eval.records import Outcome, SentenceRef

TOP_N = 2
NAME = "baseline-minilm-top2"


def baseline_outcomes(assistant: Any, items: Sequence[GoldItem], k: int) -> list[Outcome]:
    """One ``Outcome`` per item: the ``TOP_N`` sentences by cosine (within the item's document
    when it names one); ``retrieved`` is the cosine ranking cut at ``k``."""
    retriever = assistant.retriever  # loads the index on first use
    sentences = retriever.sentences
    if not items:
        return []
    vecs = retriever.embedder.embed([it.question for it in items])
    doc_ids = np.array([s.doc_id for s in sentences])
    out = []
    for item, vec in zip(items, vecs, strict=True):
        t0 = time.perf_counter()
        cos = retriever.embeddings @ vec
        if item.doc_id:
            cos = np.where(doc_ids == item.doc_id, cos, -np.inf)
        order = [int(i) for i in np.argsort(-cos, kind="stable")[: max(k, TOP_N)] if np.isfinite(cos[i])]
        refs = tuple(SentenceRef(sentences[i].doc_id, sentences[i].sentence_id, sentences[i].text)
                     for i in order)
        top = refs[:TOP_N]
        text = " ".join(r.text for r in top)  # no [n] markers: "[1]" would match a must fact "1"
        out.append(Outcome(item.id, text=text, refused=False, citations=top, retrieved=refs[:k],
                           latency_ms=(time.perf_counter() - t0) * 1000, kind="baseline",
                           standalone_question=item.question))
    return out
