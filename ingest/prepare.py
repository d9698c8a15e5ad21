"""Documents -> prepared rows: split, annotate (entities) and embed, nothing written yet.

Its own module because both the ingest pipeline (new and changed files) and the repair
(documents rebuilt from their stored text) prepare documents the same way, and the repair
must not depend on the pipeline that calls it. Pure apart from the models: a preparation
that fails or is cancelled has not touched the index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from assistant.core.errors import IngestError
from assistant.core.types import Document, Sentence
from assistant.retrieval.embedder import Embedder
from ingest.sentences import split_sentences
from ingest.writer import PreparedDocument

EMBED_BATCH = 256  # texts per embedding call when someone watches the progress (the web page)

# (stage, done, total): "sentences" once split (before names are found), "embedding" after
# each batch. It may raise (a cancelled upload): nothing has been written yet, so the index
# stays as it was.
StepProgress = Callable[[str, int, int], None]


def embed_texts(embedder: Embedder, texts: list[str], on_step: StepProgress | None) -> Any:
    """All ``texts`` embedded; in batches with a progress call after each when watched."""
    if on_step is None:
        return embedder.embed(texts)
    import numpy as np

    parts = []
    for i in range(0, len(texts), EMBED_BATCH):
        parts.append(embedder.embed(texts[i : i + EMBED_BATCH]))
        on_step("embedding", min(i + EMBED_BATCH, len(texts)), len(texts))
    return np.vstack(parts)


def add_time(timings: dict[str, float] | None, stage: str, since: float) -> float:
    """Add the seconds since ``since`` to ``timings[stage]``; returns now (the next start)."""
    now = time.perf_counter()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + now - since
    return now


def timed(timings: dict[str, float] | None, stage: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, its seconds added to ``timings[stage]`` (for work run in a thread)."""
    t = time.perf_counter()
    try:
        return fn(*args)
    finally:
        add_time(timings, stage, t)


def prepare_many(
    docs: list[Document], embedder: Embedder, with_entities: bool = True, on_step: StepProgress | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[list[PreparedDocument], list[IngestError]]:
    """Split, annotate and embed ``docs`` together (pure apart from the models).

    spaCy runs in a thread while MiniLM embeds the same sentence texts (entities do not
    change them): both release the GIL for their heavy loops, so on two cores spaCy's time
    mostly hides behind the embedding's instead of adding to it. ``timings``, when given,
    gains the seconds per stage ("split", "entities", "embed"; the latter two overlap): the
    ingest profile of docs/measurements.md."""
    t = time.perf_counter()
    split: list[tuple[Document, list[Sentence]]] = []
    errors: list[IngestError] = []
    for doc in docs:
        sentences = split_sentences(doc.text, doc.doc_id)
        if sentences:
            split.append((doc, sentences))
        else:
            errors.append(IngestError(doc.source or doc.doc_id, "has no sentences to index"))
    t = add_time(timings, "split", t)
    if on_step and split:
        on_step("sentences", 0, sum(len(s) for _d, s in split))
    texts = [s.text for _d, sents in split for s in sents]
    if not texts:
        return [], errors
    if with_entities:
        from ingest.annotate import annotate_many  # spaCy: loaded only when names are wanted

        with ThreadPoolExecutor(1, thread_name_prefix="spacy") as pool:  # spaCy beside MiniLM
            items = [(d.text, s) for d, s in split]
            annotated = pool.submit(timed, timings, "entities", annotate_many, items)
            vectors = embed_texts(embedder, texts, on_step)
            add_time(timings, "embed", t)
            split = [(d, a) for (d, _s), a in zip(split, annotated.result(), strict=True)]
    else:
        vectors = embed_texts(embedder, texts, on_step)
        add_time(timings, "embed", t)
    out: list[PreparedDocument] = []
    at = 0
    for doc, sents in split:
        out.append(PreparedDocument(doc, sents, vectors[at : at + len(sents)]))
        at += len(sents)
    return out, errors


def prepare(doc: Document, embedder: Embedder, with_entities: bool = True) -> PreparedDocument:
    """One document's ``prepare_many`` (raises ``IngestError`` when it has no sentences)."""
    prepared, errors = prepare_many([doc], embedder, with_entities)
    if errors:
        raise errors[0]
    return prepared[0]
