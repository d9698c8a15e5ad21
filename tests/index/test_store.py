"""The Chroma store: clear errors for a missing or damaged index, server mode, no telemetry.

A person who has not ingested anything, or whose index file got damaged, must be told what
is wrong and the command that fixes it — not shown a SQLite traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assistant.core.errors import IndexCorruptError, IndexMissingError, IndexUnreachableError
from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.core.types import Entity
from assistant.engine import Assistant
from assistant.index.index_view import read_snapshot
from assistant.index.store import (
    COLLECTION_METADATA,
    collection_names,
    entities_from_json,
    entities_to_json,
    get_collections,
    open_client,
)
from ingest.pipeline import Ingestor


def _ingest(settings: Settings, fake_embedder: Any, tmp_path: Path, text: str) -> Ingestor:
    f = tmp_path / "article.txt"
    f.write_text(text, encoding="utf-8")
    ingestor = Ingestor(settings, embedder=fake_embedder, with_entities=False)
    report = ingestor.ingest_paths([f])
    assert not report.errors, report.errors
    return ingestor


# -- missing -------------------------------------------------------------------------------------
def test_missing_folder_says_how_to_build_and_creates_nothing(tmp_settings: Settings) -> None:
    with pytest.raises(IndexMissingError) as err:
        read_snapshot(tmp_settings)
    assert str(tmp_settings.index_dir) in str(err.value)
    assert "python -m ingest" in str(err.value)
    assert not tmp_settings.index_dir.exists(), "reading must not create an empty index"


def test_empty_folder_says_how_to_build(tmp_settings: Settings) -> None:
    tmp_settings.index_dir.mkdir(parents=True)
    with pytest.raises(IndexMissingError, match="python -m ingest"):
        read_snapshot(tmp_settings)


def test_database_without_collections_says_how_to_build(tmp_settings: Settings) -> None:
    open_client(tmp_settings)  # creates chroma.sqlite3 but no collections
    assert (tmp_settings.index_dir / "chroma.sqlite3").exists()
    with pytest.raises(IndexMissingError, match="python -m ingest") as err:
        read_snapshot(tmp_settings)
    assert tmp_settings.sentences_collection in str(err.value)


def test_assistant_raises_index_missing_on_ask(tmp_settings: Settings) -> None:
    with pytest.raises(IndexMissingError):
        Assistant(tmp_settings).ask("Where was the meeting held?")


# -- corrupt -------------------------------------------------------------------------------------
@pytest.mark.parametrize("junk", [b"this is not a database\n" * 100, os.urandom(8192), b""])
def test_garbage_sqlite_file_is_index_corrupt(tmp_settings: Settings, junk: bytes) -> None:
    tmp_settings.index_dir.mkdir(parents=True)
    (tmp_settings.index_dir / "chroma.sqlite3").write_bytes(junk)
    with pytest.raises((IndexCorruptError, IndexMissingError)) as err:
        read_snapshot(tmp_settings)
    message = str(err.value)
    assert str(tmp_settings.index_dir) in message and "python -m ingest" in message
    if junk:
        assert isinstance(err.value, IndexCorruptError)


def test_missing_sentence_rows_are_corrupt_and_repair_rebuilds_them(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    from ingest.repair import repair

    ingestor = _ingest(tmp_settings, fake_embedder, tmp_path, article_text)
    client = ingestor._client
    cols = get_collections(client, tmp_settings, create=False)
    cols.sentences.delete(ids=cols.sentences.get(limit=3, include=[])["ids"])
    assert len(read_snapshot(tmp_settings).sentences) == 38, "the cache still serves the last good state"
    shutil.rmtree(tmp_settings.index_dir / "cache")
    with pytest.raises(IndexCorruptError, match="python -m ingest --repair") as err:
        read_snapshot(tmp_settings, client=client)
    assert "rm -r" not in str(err.value) and "\n" not in str(err.value)
    report = repair(ingestor)
    assert report.rebuilt == ["article.txt"] and not report.lost
    snap = read_snapshot(tmp_settings, client=client)
    assert len(snap.sentences) == 38 and cols.sentences.count() == 38


def test_a_cache_of_an_older_format_is_rebuilt_in_place(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    """Same generation, older layout (a new release reads an index the old one wrote): the
    cache is rebuilt from Chroma, not kept (which used to fail an assertion on every start)."""
    import json

    from assistant.index.snapshot import CACHE_FORMAT, cache_root, current_generation

    _ingest(tmp_settings, fake_embedder, tmp_path, article_text)
    root = cache_root(tmp_settings)
    meta_file = root / f"gen-{current_generation(root)}" / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta_file.write_text(json.dumps({**meta, "format": CACHE_FORMAT - 1}), encoding="utf-8")
    snap = read_snapshot(tmp_settings)
    assert len(snap.sentences) == 38
    assert json.loads(meta_file.read_text(encoding="utf-8"))["format"] == CACHE_FORMAT


@pytest.mark.parametrize("victim", ["names.json", "person_words.json", "people.bin", "sent_text.bin"])
def test_a_damaged_cache_is_rebuilt_not_a_traceback(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str, victim: str) -> None:
    """A cache file missing (read at open, or only by a later question) is found when the cache
    is opened and the cache is rebuilt from Chroma: the question is answered, and
    ``--repair`` (which rebuilds through the same path) is not stuck on the damaged folder."""
    from assistant.index.snapshot import cache_root, current_generation

    _ingest(tmp_settings, fake_embedder, tmp_path, article_text)
    root = cache_root(tmp_settings)
    damaged = root / f"gen-{current_generation(root)}" / victim
    damaged.unlink()
    bot = Assistant(replace(tmp_settings), embedder=fake_embedder)
    history = [{"role": "user", "content": "Where was the meeting held?"},
               {"role": "assistant", "content": "In Paris."}]
    assert not bot.ask("Who said that?", history).error
    assert damaged.is_file()


def test_the_ivf_index_follows_the_settings_given(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    """The cache build writes the IVF index from the ingest's ``ann_min_sentences``, the value
    its retriever uses, not from the environment's."""
    from assistant.index.snapshot import cache_root, current_generation

    settings = replace(tmp_settings, ann_min_sentences=10)
    _ingest(settings, fake_embedder, tmp_path, article_text)
    root = cache_root(settings)
    assert (root / f"gen-{current_generation(root)}" / "ivf" / "vectors.f32").is_file()
    bot = Assistant(settings, embedder=fake_embedder)
    assert bot.retriever._ivf is not None and not bot.ask("Where was the meeting held?").error


def test_index_built_with_another_model_is_corrupt(tmp_settings: Settings) -> None:
    client = open_client(tmp_settings)
    for name in collection_names(tmp_settings):
        client.create_collection(name, embedding_function=None,
                                 metadata={**COLLECTION_METADATA, "model": "some-other-model"})
    with pytest.raises(IndexCorruptError, match="some-other-model"):
        read_snapshot(tmp_settings, client=client)


def test_index_path_that_is_a_file_is_one_line(tmp_path: Path, fake_embedder: Any) -> None:
    f = tmp_path / "index"
    f.write_text("not a folder")
    settings = replace(Settings.from_env(), index_dir=f, chroma_host="")
    with pytest.raises(IndexCorruptError, match="is a file, not a folder"):
        read_snapshot(settings)
    doc = tmp_path / "a.txt"
    doc.write_text("One sentence here.")
    with pytest.raises(IndexCorruptError, match="is a file, not a folder"):
        Ingestor(settings, embedder=fake_embedder, with_entities=False).ingest_paths([doc])


def test_garbage_sqlite_on_ingest_is_one_line_and_never_says_delete(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any) -> None:
    tmp_settings.index_dir.mkdir(parents=True)
    (tmp_settings.index_dir / "chroma.sqlite3").write_bytes(b"this is not a database\n" * 100)
    doc = tmp_path / "a.txt"
    doc.write_text("One sentence here.")
    with pytest.raises(IndexCorruptError) as err:
        Ingestor(tmp_settings, embedder=fake_embedder, with_entities=False).ingest_paths([doc])
    msg = str(err.value)
    assert "\n" not in msg and "rm -r" not in msg and "do not delete" in msg
    assert str(tmp_settings.index_dir) in msg


def test_server_down_says_unreachable_with_host_and_port(tmp_settings: Settings) -> None:
    settings = replace(tmp_settings, chroma_host="127.0.0.1", chroma_port=9)  # discard port: nothing listens
    with pytest.raises(IndexUnreachableError, match=r"127\.0\.0\.1:9 is unreachable") as err:
        read_snapshot(settings)
    assert "corrupt" not in str(err.value) and "rm -r" not in str(err.value)
    with pytest.raises(IndexUnreachableError):
        Assistant(settings).ask("Where was the meeting held?")


def _schema_1_index(settings: Settings, text: str) -> Any:
    """What the previous version wrote (llama-index nodes): only its documents matter."""
    client = open_client(settings)
    meta = {**COLLECTION_METADATA, "schema": 1}
    docs = client.create_collection(settings.documents_collection, embedding_function=None, metadata=meta)
    for name in (settings.sentences_collection, settings.chunks_collection):
        client.create_collection(name, embedding_function=None, metadata=meta)
    docs.add(ids=["x"], embeddings=[[0.1] * 384], documents=[text],
             metadatas=[{"doc_id": "uploaded.txt", "source": "/tmp/gone/uploaded.txt", "content_hash": "h1",
                         "title": "uploaded"}])
    return client


def test_ingest_into_an_old_schema_index_upgrades_it_first(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    """``make run`` over an index of the previous version keeps the documents uploaded into it."""
    client = _schema_1_index(tmp_settings, article_text)
    new = tmp_path / "new.txt"
    new.write_text("A new document arrives. It has two sentences.")
    ingestor = Ingestor(tmp_settings, embedder=fake_embedder, client=client, with_entities=False)
    report = ingestor.ingest_paths([new])
    assert report.added == ["new.txt"] and not report.errors
    assert sorted(read_snapshot(tmp_settings).documents) == ["new.txt", "uploaded.txt"]


def test_old_schema_index_says_repair_and_repair_upgrades_it(
        tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    """An index written by the schema-1 code (llama-index nodes) is upgraded in place."""
    from ingest.repair import repair

    client = _schema_1_index(tmp_settings, article_text)
    with pytest.raises(IndexCorruptError, match="older version") as err:
        read_snapshot(tmp_settings, client=client)
    assert "--repair" in str(err.value)
    report = repair(Ingestor(tmp_settings, embedder=fake_embedder, client=client, with_entities=False))
    assert report.upgraded == ["uploaded.txt"]
    snap = read_snapshot(tmp_settings)
    assert list(snap.documents) == ["uploaded.txt"] and len(snap.sentences) == 38
    assert tmp_settings.documents_collection not in {c.name for c in client.list_collections()}


# -- a good index ---------------------------------------------------------------------------------
def test_snapshot_round_trip_keeps_exact_offsets(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    _ingest(tmp_settings, fake_embedder, tmp_path, article_text)
    snap = read_snapshot(tmp_settings)
    assert list(snap.documents) == ["article.txt"]
    assert snap.embeddings.shape == (len(snap.sentences), 384)
    assert [s.key for s in snap.sentences] == sorted(s.key for s in snap.sentences)
    for s in snap.sentences:
        assert snap.documents[s.doc_id].text[s.start:s.end] == s.text


def test_entities_json_round_trip() -> None:
    ents = (Entity("Macron", "PERSON", 0, 6), Entity("Kyiv’s", "GPE", 10, 16))
    assert entities_from_json(entities_to_json(ents)) == ents
    assert entities_from_json("") == () and entities_from_json(None) == ()


# -- server mode and telemetry ---------------------------------------------------------------------
class _Recorder:
    """Stands in for a chromadb client class and remembers how it was built."""

    calls: ClassVar[list[dict[str, Any]]]

    def __init__(self, **kwargs: Any) -> None:
        type(self).calls.append(kwargs)


def test_chroma_host_switches_to_http_client(tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import chromadb

    class FakeHttp(_Recorder):
        calls: ClassVar[list[dict[str, Any]]] = []

    class FakePersistent(_Recorder):
        calls: ClassVar[list[dict[str, Any]]] = []

    monkeypatch.setattr(chromadb, "HttpClient", FakeHttp)
    monkeypatch.setattr(chromadb, "PersistentClient", FakePersistent)
    monkeypatch.setenv("CHROMA_HOST", "chroma.internal")
    monkeypatch.setenv("CHROMA_PORT", "8123")
    settings = replace(Settings.from_env(), index_dir=tmp_settings.index_dir)
    assert (settings.chroma_host, settings.chroma_port) == ("chroma.internal", 8123)

    client = open_client(settings)
    assert isinstance(client, FakeHttp) and FakePersistent.calls == []
    (call,) = FakeHttp.calls
    assert (call["host"], call["port"]) == ("chroma.internal", 8123)
    assert call["settings"].anonymized_telemetry is False
    assert not settings.index_dir.exists(), "server mode must not create a local index folder"

    assert isinstance(open_client(replace(settings, chroma_host="")), FakePersistent)
    assert FakePersistent.calls[0]["settings"].anonymized_telemetry is False


def test_embedded_client_has_telemetry_off(tmp_settings: Settings) -> None:
    assert open_client(tmp_settings).get_settings().anonymized_telemetry is False


def test_settings_turn_telemetry_and_hub_access_off_when_read_not_when_imported() -> None:
    """Importing the settings changes nothing (issue 20: nothing acts at import time); reading
    them (``Settings.from_env``, what every entry point does first) sets the offline switches,
    without overriding a value the caller set."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANONYMIZED_TELEMETRY", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                        "OPENBLAS_NUM_THREADS")}
    env["TRANSFORMERS_OFFLINE"] = "caller"
    code = ("import os, assistant.core.settings as s; "
            "print(os.environ.get('HF_HUB_OFFLINE', '-')); s.Settings.from_env(); "
            "print(os.environ['ANONYMIZED_TELEMETRY'], os.environ['HF_HUB_OFFLINE'], "
            "os.environ['TRANSFORMERS_OFFLINE'], os.environ['OPENBLAS_NUM_THREADS'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=PROJECT_ROOT, timeout=60, check=True).stdout.split()
    assert out == ["-", "False", "1", "caller", "1"]
