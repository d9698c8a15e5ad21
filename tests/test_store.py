"""The Chroma store: clear errors for a missing or damaged index, server mode, no telemetry.

A person who has not ingested anything, or whose index file got damaged, must be told what
is wrong and the command that fixes it — not shown a SQLite traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assistant.engine import Assistant
from assistant.errors import IndexCorruptError, IndexMissingError
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import (
    COLLECTION_METADATA,
    entities_from_json,
    entities_to_json,
    get_collections,
    open_client,
    read_snapshot,
)
from assistant.types import Entity
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


def test_sentence_that_does_not_match_its_document_is_corrupt(
        tmp_path: Path, tmp_settings: Settings, fake_embedder: Any, article_text: str) -> None:
    ingestor = _ingest(tmp_settings, fake_embedder, tmp_path, article_text)
    sentences, _chunks, _docs = get_collections(ingestor._client, tmp_settings, create=False)
    first = sentences.get(limit=1, include=["embeddings"])
    # Embeddings passed too: without them Chroma would try to download its default model.
    sentences.update(ids=first["ids"], documents=["An altered sentence."],
                     embeddings=[list(first["embeddings"][0])])
    with pytest.raises(IndexCorruptError, match="does not match its document"):
        read_snapshot(tmp_settings, client=ingestor._client)


def test_index_built_with_another_model_is_corrupt(tmp_settings: Settings) -> None:
    client = open_client(tmp_settings)
    for name in (tmp_settings.sentences_collection, tmp_settings.chunks_collection,
                 tmp_settings.documents_collection):
        client.create_collection(name, embedding_function=None,
                                 metadata={**COLLECTION_METADATA, "model": "some-other-model"})
    with pytest.raises(IndexCorruptError, match="some-other-model"):
        read_snapshot(tmp_settings, client=client)


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


def test_importing_settings_turns_telemetry_and_hub_access_off() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ANONYMIZED_TELEMETRY", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = ("import os, assistant.settings; "
            "print(os.environ['ANONYMIZED_TELEMETRY'], os.environ['HF_HUB_OFFLINE'], "
            "os.environ['TRANSFORMERS_OFFLINE'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=PROJECT_ROOT, timeout=60, check=True).stdout.split()
    assert out == ["False", "1", "1"]
