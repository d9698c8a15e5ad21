"""A long document written piece by piece (ingest.stream): same rows, moving progress, clean cancel."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.core.settings import Settings
from assistant.core.types import Document
from assistant.index.index_view import read_snapshot
from ingest.pipeline import Ingestor


class _Span:
    def __init__(self, start: int, end: int, text: str) -> None:
        self.start_char, self.end_char, self.text, self.label_ = start, end, text, "ORG"


class _FakeNlp:
    """Finds the word 'Acme'; refuses texts over ``max_length`` like spaCy's E088."""

    max_length = 1000

    def pipe(self, texts, batch_size: int = 64):
        for t in texts:
            assert len(t) <= self.max_length, "E088"
            ents = [_Span(m.start(), m.end(), m.group()) for m in re.finditer("Acme", t)]
            yield type("Doc", (), {"ents": ents})()


def _book(n: int = 300, tag: str = "") -> str:
    lines = [f"Sentence {i}{tag} says Acme sold {i} boats, one named \"Blue Heron,\" to a buyer."
             for i in range(n)]
    lines[50] = "A very long sentence " + "with many words about Acme " * 60 + "ends here."  # > a piece
    return "\n\n".join(" ".join(lines[i : i + 5]) for i in range(0, n, 5))


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.annotate as annotate
    import ingest.pipeline as pipeline

    monkeypatch.setattr(annotate, "_nlp", _FakeNlp())
    monkeypatch.setattr(annotate, "PIECE_CHARS", 900)
    monkeypatch.setattr(pipeline, "STREAM_CHARS", 2000)


def _rows(settings: Settings) -> list[tuple]:
    snap = read_snapshot(settings)
    return [(s.doc_id, s.sentence_id, s.start, s.end, s.paragraph, s.entities) for s in snap.sentences]


def test_parts_cover_every_sentence_once_and_join_spans_a_sentence_runs_over() -> None:
    from ingest.annotate import pieces
    from ingest.sentences import split_sentences
    from ingest.stream import parts

    text = _book()
    sents = split_sentences(text, "b")
    spans = pieces(text, sents, 900)
    got = list(parts(sents, spans))
    assert [s for part, _c in got for s in part] == sents
    for part, covering in got:
        assert covering[0][0] <= part[0].start and part[-1].end <= covering[-1][1]
    assert any(len(c) > 1 for _p, c in got)  # the long sentence's hard-cut spans stay together


def test_a_long_document_streams_the_same_rows_entities_and_vectors(
    tmp_path: Path, tmp_settings: Settings, fake_embedder, small_pieces: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ingest.pipeline as pipeline

    doc = Document("book.txt", _book(), "book.txt", "h1", "book")
    steps: list[tuple[str, int, int]] = []
    report = Ingestor(tmp_settings, embedder=fake_embedder).ingest_documents(
        [doc], on_step=lambda *a: steps.append(a))
    assert report.added == ["book.txt"] and not report.errors
    assert set(report.timings) >= {"split", "entities", "embed", "write", "cache"}
    streamed = _rows(tmp_settings)
    monkeypatch.setattr(pipeline, "STREAM_CHARS", 10**9)  # the whole-document path
    whole = replace(tmp_settings, index_dir=tmp_path / "whole")
    Ingestor(whole, embedder=fake_embedder).ingest_documents([doc])
    assert streamed == _rows(whole) and len(streamed) == report.sentences
    assert any(e.label == "WORK_OF_ART" for row in streamed for e in row[5])  # quoted names kept
    assert np.array_equal(np.asarray(read_snapshot(tmp_settings).embeddings),
                          np.asarray(read_snapshot(whole).embeddings))
    done = [d for stage, d, _t in steps if stage == "embedding"]
    assert len(done) > 5 and done == sorted(done) and done[-1] == report.sentences  # it moved


def test_a_cancelled_long_document_leaves_the_index_as_it_was(
    tmp_settings: Settings, fake_embedder, small_pieces: None
) -> None:
    ing = Ingestor(tmp_settings, embedder=fake_embedder)
    ing.ingest_documents([Document("book.txt", _book(), "book.txt", "h1", "book")])
    before, count = _rows(tmp_settings), ing.counts()

    def cancel(stage: str, done: int, total: int) -> None:
        if stage == "embedding" and done > total // 3:
            raise KeyboardInterrupt  # what the web page's Cancel raises, in effect

    with pytest.raises(KeyboardInterrupt):
        ing.ingest_documents([Document("book.txt", _book(tag="b"), "book.txt", "h2", "book")], on_step=cancel)
    assert _rows(tmp_settings) == before and ing.counts() == count
    assert ing.stored_hash("book.txt") == "h1"
    ing.release_writer()
    again = ing.ingest_documents([Document("book.txt", _book(tag="b"), "book.txt", "h2", "book")])
    assert again.replaced == ["book.txt"] and not again.recovered
