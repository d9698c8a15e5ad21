"""Ingest: idempotency, replace-on-change, and failures that leave the index untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.settings import Settings
from assistant.index.index_view import read_snapshot
from ingest.loaders import load_file
from ingest.pipeline import Ingestor


def _ingestor(settings: Settings, fake_embedder) -> Ingestor:
    return Ingestor(settings, embedder=fake_embedder, with_entities=False)


def _snapshot_rows(settings: Settings) -> list[tuple]:
    snap = read_snapshot(settings)
    return [(s.doc_id, s.sentence_id, s.text, s.start, s.end) for s in snap.sentences]


def test_reingest_adds_nothing(
    tmp_path: Path, tmp_settings: Settings, fake_embedder, article_text: str
) -> None:
    f = tmp_path / "a.txt"
    f.write_text(article_text, encoding="utf-8")
    ing = _ingestor(tmp_settings, fake_embedder)
    first = ing.ingest_paths([f])
    assert first.added == ["a.txt"] and first.sentences == 38
    counts = ing.counts()
    second = ing.ingest_paths([f])
    assert second.unchanged == ["a.txt"] and second.added == [] and second.sentences == 0
    assert ing.counts() == counts == {"sentences": 38, "documents": 1}


def test_changed_file_replaces_its_sentences(tmp_path: Path, tmp_settings: Settings, fake_embedder) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("Alpha is first. Beta is second. Gamma is third.", encoding="utf-8")
    ing = _ingestor(tmp_settings, fake_embedder)
    ing.ingest_paths([f])
    f.write_text("Delta replaced everything.", encoding="utf-8")
    report = ing.ingest_paths([f])
    assert report.replaced == ["notes.txt"]
    rows = _snapshot_rows(tmp_settings)
    assert [r[2] for r in rows] == ["Delta replaced everything."]
    assert ing.counts()["documents"] == 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n  ", "empty"),
        ("bin.txt", b"\x00\x01\x02binary\x00", "binary"),
        ("image.png", b"\x89PNG\r\n", "unsupported"),
        ("fake.pdf", b"not a pdf at all", "not a PDF"),
    ],
)
def test_bad_files_leave_the_index_exactly_as_it_was(
    tmp_path: Path, tmp_settings: Settings, fake_embedder, name: str, content: bytes, reason: str
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("The index holds this sentence. And this one.", encoding="utf-8")
    ing = _ingestor(tmp_settings, fake_embedder)
    ing.ingest_paths([good])
    before = _snapshot_rows(tmp_settings)
    bad = tmp_path / name
    bad.write_bytes(content)
    report = ing.ingest_paths([bad])
    assert len(report.errors) == 1
    message = str(report.errors[0])
    assert name in message and reason in message
    assert "\n" not in message
    assert _snapshot_rows(tmp_settings) == before


def test_missing_and_unreadable_files(tmp_path: Path, tmp_settings: Settings, fake_embedder) -> None:
    report = _ingestor(tmp_settings, fake_embedder).ingest_paths([tmp_path / "nope.txt"])
    assert "does not exist" in str(report.errors[0])


def test_html_loader_drops_scripts(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text("<html><body><h1>Title</h1><script>alert(1)</script><p>Body text here.</p></body></html>")
    doc = load_file(f)
    assert "alert" not in doc.text and "Title" in doc.text and "Body text here." in doc.text


@pytest.fixture
def cli_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, article_text: str, fake_embedder) -> Path:
    """The article as a file, and ``python -m ingest`` pointed at a fresh index with the fake
    embedder and no entities (the CLI builds its own ``Ingestor``)."""
    import ingest.pipeline as pipeline

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "idx"))
    original = pipeline.Ingestor.__init__

    def init(self, settings=None, embedder=None, client=None, with_entities=True):
        original(self, settings, fake_embedder, client, False)

    monkeypatch.setattr(pipeline.Ingestor, "__init__", init)
    f = tmp_path / "article.txt"
    f.write_text(article_text, encoding="utf-8")
    return f


def test_cli_twice_keeps_counts(cli_article: Path) -> None:
    """``python -m ingest`` run twice: the second run changes nothing."""
    import ingest.__main__ as cli

    f = cli_article
    assert cli.main([str(f), "--quiet"]) == 0
    assert cli.main([str(f), "--quiet"]) == 0
    settings = Settings.from_env()
    assert len(read_snapshot(settings).sentences) == 38
    assert cli.main([str(f.parent / "missing.txt"), "--quiet"]) == 1


# -- big documents: spaCy sees pieces, never more than its maximum (E088) ---------------------------
class _FakeSpan:
    def __init__(self, start: int, end: int, text: str) -> None:
        self.start_char, self.end_char, self.text, self.label_ = start, end, text, "ORG"


class _FakeNlp:
    """Finds the word 'Acme' and refuses texts over ``max_length``, like spaCy's E088."""

    max_length = 1000

    def pipe(self, texts, batch_size: int = 64):
        import re

        for t in texts:
            if len(t) > self.max_length:
                raise ValueError(f"[E088] Text of length {len(t)} exceeds maximum of {self.max_length}.")
            yield type("Doc", (), {"ents": [_FakeSpan(m.start(), m.end(), "Acme")
                                            for m in re.finditer("Acme", t)]})()


def test_long_document_is_annotated_in_pieces_with_exact_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.annotate as annotate
    from ingest.sentences import split_sentences

    monkeypatch.setattr(annotate, "_nlp", _FakeNlp())
    monkeypatch.setattr(annotate, "PIECE_CHARS", 900)
    text = " ".join(f"Sentence {i} says Acme sold {i} boats." for i in range(400))  # ~14,000 chars
    sents = split_sentences(text, "big")
    spans = annotate.pieces(text, sents, 900)
    assert spans[0][0] == 0 and spans[-1][1] == len(text) and len(spans) > 10
    assert all(b - a <= 900 for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    out = annotate.annotate_many([(text, sents)])[0]
    assert len(out) == len(sents) == 400
    for s in out:
        (e,) = s.entities
        assert s.text[e.start : e.end] == "Acme"


def test_pieces_cut_an_enormous_sentence_hard() -> None:
    from ingest.annotate import pieces
    from ingest.sentences import split_sentences

    text = "word " * 3000
    spans = pieces(text, split_sentences(text, "x"), 1000)
    assert all(b - a <= 1000 for a, b in spans) and spans[-1][1] == len(text)


def test_cli_repair_cleans_an_interrupted_ingest(
    cli_article: Path, article_text: str, fake_embedder, capsys
) -> None:
    """A pending version left by a killed ingest: --repair deletes its rows, keeps the document."""
    import ingest.__main__ as cli
    import ingest.pipeline as pipeline
    from assistant.index.store import sentence_row_ids

    f = cli_article
    assert cli.main([str(f), "--quiet"]) == 0
    ing = pipeline.Ingestor(Settings.from_env())
    writer = ing.writer
    entry = writer.manifest["article.txt"]
    # what a kill between "mark pending" and "switch" leaves: a pending mark and its rows
    from dataclasses import replace

    from assistant.core.types import Document
    from ingest.prepare import prepare

    new = Document("article.txt", article_text + " One more sentence.", str(f), "h2", "article")
    writer._put_manifest([replace(entry, pending="h2", pending_sentences=39)])
    writer._add_rows([prepare(new, fake_embedder, with_entities=False)])
    writer.close()
    assert ing.counts()["sentences"] == 38 + 39
    assert len(read_snapshot(Settings.from_env()).sentences) == 38
    capsys.readouterr()
    assert cli.main(["--repair"]) == 0
    out = capsys.readouterr().out
    assert "1 unfinished ingests cleaned" in out and "LOST" not in out
    assert ing.counts()["sentences"] == 38
    got = ing.writer.cols.sentences.get(ids=sentence_row_ids("article.txt", "h2", 39), include=[])
    assert got["ids"] == []
    ing.writer.close()
    assert len(read_snapshot(Settings.from_env()).sentences) == 38
    with pytest.raises(SystemExit):
        cli.main([])


def test_cached_sentence_table_indexes_as_a_list(
    tmp_path: Path, tmp_settings: Settings, fake_embedder
) -> None:
    """The cache's lazy sentence table answers indices, slices and iteration as a list would,
    including an IndexError below -len (it used to wrap twice and build another row)."""
    f = tmp_path / "notes.txt"
    f.write_text("Alpha is first. Beta is second. Gamma is third.", encoding="utf-8")
    _ingestor(tmp_settings, fake_embedder).ingest_paths([f])
    table = read_snapshot(tmp_settings).sentences
    texts = [s.text for s in table]
    assert texts == ["Alpha is first.", "Beta is second.", "Gamma is third."]
    assert table[-1].text == texts[-1] and [s.text for s in table[1:]] == texts[1:]
    assert [s.text for s in table] == texts  # the second pass reads the kept rows
    for bad in (3, -4):
        with pytest.raises(IndexError):
            table[bad]


def test_quoted_names_after_naming_verbs_become_entities() -> None:
    from ingest.annotate import quoted_names

    text = 'Their boat, named "Blue Heron," won. The plan was called “Green Road”. She said "no way".'
    spans = quoted_names(text)
    assert [(text[a:b], label) for a, b, _t, label in spans] == [
        ("Blue Heron", "WORK_OF_ART"), ("Green Road", "WORK_OF_ART")]  # not what she said


def test_an_upload_is_read_under_its_file_name_only(tmp_settings: Settings, fake_embedder) -> None:
    """The web chat reads uploads through the ingestor: a path in the name never reaches the id."""
    ing = _ingestor(tmp_settings, fake_embedder)
    doc = ing.load_upload("../../elsewhere/notes.md", b"- a first point\n- a second point\n")
    assert doc.doc_id == "notes.md" and doc.text.startswith("- a first point")
    assert {".txt", ".md", ".html", ".pdf"} <= ing.supported
    from assistant.core.errors import IngestError

    with pytest.raises(IngestError, match="unsupported"):
        ing.load_upload("slides.pptx", b"PK")


def test_two_files_of_one_name_are_not_one_document(
    tmp_path: Path, tmp_settings: Settings, fake_embedder
) -> None:
    """Documents are known by file name: the second of two same-named files in one run is
    refused with the reason, not taken as an unchanged or replacing version of the first."""
    for sub, text in (("2024", "Sales rose in spring."), ("2025", "Sales fell in autumn.")):
        (tmp_path / "in" / sub).mkdir(parents=True)
        (tmp_path / "in" / sub / "summary.txt").write_text(text, encoding="utf-8")
    report = _ingestor(tmp_settings, fake_embedder).ingest_paths([tmp_path / "in"])
    assert report.added == ["summary.txt"]
    assert len(report.errors) == 1 and "same file name" in report.errors[0].reason
    assert report.errors[0].path.endswith("2025/summary.txt")
    assert [r[2] for r in _snapshot_rows(tmp_settings)] == ["Sales rose in spring."]
