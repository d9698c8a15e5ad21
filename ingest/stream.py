"""One long document, piece by piece: bounded memory and a progress report per piece.

Why: a book (1.1 million characters, ~9,000 sentences) used to be prepared whole (every
spaCy piece, every vector) before its first row was written, and the progress bar moved once,
at the end. Here it is split once (cheap), then each piece of ~100k characters (the pieces
spaCy is given anyway, ``ingest.annotate.pieces``) is annotated, embedded and written as rows
of the document's *pending* version; only then does the manifest switch to it. So the index
protocol is unchanged (``ingest.writer``: a kill at any moment leaves the old version or the
new one), the rows and entities are those of a whole-document preparation, memory holds one
piece, and ``on_step`` hears ("embedding", done, total) after every embedding batch.
spaCy annotates the parts in a thread, ahead of MiniLM embedding them (``prepare_many``
says why).
A cancel (``on_step`` raising) removes the pending rows: the index stays as it was.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from assistant.core.errors import IngestError
from assistant.core.types import Document, Sentence
from assistant.retrieval.embedder import Embedder
from ingest.annotate import PIECE_CHARS, pieces, quoted_names
from ingest.prepare import StepProgress, add_time, embed_texts, timed
from ingest.sentences import split_sentences
from ingest.writer import IndexWriter, PreparedDocument

STREAM_CHARS = 100_000  # documents longer than this are written piece by piece


def parts(sentences: Sequence[Sentence], spans: Sequence[tuple[int, int]]) -> Iterator[
        tuple[list[Sentence], list[tuple[int, int]]]]:
    """(sentences, the spans covering them) per part: consecutive ``spans`` of ``pieces``,
    joined only where one sentence runs over a cut (a sentence longer than a piece)."""
    i = j = 0
    group: list[tuple[int, int]] = []
    for a, b in spans:
        group.append((a, b))
        while j < len(sentences) and sentences[j].start < b:
            j += 1
        if j > i and sentences[j - 1].end > b:
            continue  # the part's last sentence goes on into the next span
        if j > i:
            yield list(sentences[i:j]), group
        group = []
        i = j
    if j > i:
        yield list(sentences[i:j]), group


def ingest_long(
    doc: Document, writer: IndexWriter, embedder: Embedder, with_entities: bool = True,
    on_step: StepProgress | None = None, timings: dict[str, float] | None = None,
) -> int:
    """Write ``doc`` piece by piece and switch to it; returns its sentence count."""
    t = time.perf_counter()
    sentences = split_sentences(doc.text, doc.doc_id)
    add_time(timings, "split", t)
    if not sentences:
        raise IngestError(doc.source or doc.doc_id, "has no sentences to index")
    n = len(sentences)
    if on_step:
        on_step("sentences", 0, n)
    if with_entities:
        from ingest.annotate import piece_limit  # loads spaCy

        spans, quoted = pieces(doc.text, sentences, piece_limit()), quoted_names(doc.text)
    else:
        spans, quoted = pieces(doc.text, sentences, PIECE_CHARS), []
    before = writer.begin([(doc, n)])
    total = np.zeros(embedder.dim, dtype=np.float64)
    done = 0
    todo = list(parts(sentences, spans))
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="spacy") as pool:
            annotated = [pool.submit(_annotate, doc.text, part, covering, quoted, with_entities, timings)
                         for part, covering in todo]  # spaCy works through the parts in its thread
            try:
                for (part, _covering), found in zip(todo, annotated, strict=True):
                    t = time.perf_counter()
                    vectors = embed_texts(embedder, [s.text for s in part], _offset(on_step, done, n))
                    t = add_time(timings, "embed", t)
                    writer.add_sentences([PreparedDocument(doc, found.result(), vectors)], first=[done])
                    add_time(timings, "write", t)
                    total += vectors.sum(0, dtype=np.float64)
                    done += len(part)
            finally:
                for f in annotated:
                    f.cancel()  # a cancelled upload does not wait for the parts not begun
        t = time.perf_counter()
        mean = total / max(float(np.linalg.norm(total)), 1e-12)
        writer.add_documents([(doc, n, mean.astype(np.float32))])
    except BaseException:
        _abandon(writer, doc, n)
        raise
    writer.switch([(doc, n)], before)
    add_time(timings, "write", t)
    return n


def _annotate(text: str, part: list[Sentence], covering: list[tuple[int, int]],
              quoted: list[tuple[int, int, str, str]], with_entities: bool,
              timings: dict[str, float] | None) -> list[Sentence]:
    """One part's sentences with their entities (run in the spaCy thread)."""
    if not with_entities:
        return part
    from ingest.annotate import annotate_part

    return timed(timings, "entities", annotate_part, text, part, covering, quoted)


def _offset(on_step: StepProgress | None, done: int, total: int) -> StepProgress | None:
    """``on_step`` for one part: its (done, total) counted in the whole document."""
    if on_step is None:
        return None
    return lambda stage, k, _of: on_step(stage, done + k, total)


def _abandon(writer: IndexWriter, doc: Document, n: int) -> None:
    """Best effort: remove the pending rows now (else the next ingest's ``recover`` does)."""
    with contextlib.suppress(Exception):  # the original error is the one to report
        writer.abandon(doc, n)
