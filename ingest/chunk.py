"""Group neighbouring sentences into overlapping chunks that remember their sentences."""

from __future__ import annotations

from assistant.types import Chunk, Document, Sentence


def make_chunks(doc: Document, sentences: list[Sentence], size: int = 3, overlap: int = 1) -> list[Chunk]:
    """Windows of ``size`` sentences, ``overlap`` shared between neighbours.

    A chunk's text is the exact document span from its first sentence to its last, so its
    offsets can be checked against the document like a sentence's.
    """
    if size < 1:
        raise ValueError(f"chunk size {size} must be at least 1")
    if not 0 <= overlap < size:
        raise ValueError(f"chunk overlap {overlap} must be in [0, {size - 1}]")
    step = size - overlap
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        window = sentences[i : i + size]
        start, end = window[0].start, window[-1].end
        chunks.append(
            Chunk(
                doc_id=doc.doc_id,
                chunk_id=len(chunks),
                text=doc.text[start:end],
                start=start,
                end=end,
                sentence_ids=tuple(s.sentence_id for s in window),
            )
        )
        if i + size >= len(sentences):
            break
        i += step
    return chunks
