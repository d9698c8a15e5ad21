"""The query cache of a new generation carries unchanged documents from the previous one.

The carried build must write the very cache a full build writes (every file, byte for byte),
read only the new documents from Chroma, and fall back to a full build whenever the previous
cache cannot be trusted (written by other code, or gone).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.core.settings import Settings
from assistant.index import cache_build
from assistant.index.cache_build import write_cache
from assistant.index.cache_carry import builder_key, carried_documents
from assistant.index.index_view import read_snapshot
from assistant.index.snapshot import cache_root, current_generation
from assistant.index.store import read_manifest
from assistant.retrieval.ivf import build
from ingest.pipeline import Ingestor

# Invented text: people, a role referring back to the main actor, quotes, figures.
DOCS = {
    "harbour.txt": "Mayor Ilse Varga opened the harbour on Monday. Varga said the quay cost 40 million. "
                   "The mayor thanked the dock workers. Ilse Varga will visit again in May.",
    "orchard.txt": "The orchard near Lenz grows 300 apple trees. Farmer Otto Brem planted them in 1990. "
                   "Brem sells cider at the market.",
    "river.txt": "The river Saale floods every spring. Engineers built a dam upstream.",
}


def _ingest(
    settings: Settings, embedder: Any, folder: Path, names: list[str], entities: bool = False
) -> Ingestor:
    folder.mkdir(exist_ok=True)
    for n in names:
        (folder / n).write_text(DOCS[n], encoding="utf-8")
    ing = Ingestor(settings, embedder=embedder, with_entities=entities)
    report = ing.ingest_paths([folder / n for n in names])
    assert not report.errors, report.errors
    return ing


def _files(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def _live_cache(settings: Settings) -> Path:
    root = cache_root(settings)
    return root / f"gen-{current_generation(root)}"


def test_an_added_document_gives_the_cache_a_full_build_gives(
    tmp_path: Path, tmp_settings: Settings, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(tmp_settings, fake_embedder, tmp_path / "in", ["harbour.txt", "river.txt"], entities=True)
    read: list[set[str]] = []
    real = cache_build._read_sentences

    def spy(cols: Any, current: dict[str, Any], by_ids: bool = False) -> Any:
        read.append(set(current))
        return real(cols, current, by_ids)

    monkeypatch.setattr(cache_build, "_read_sentences", spy)
    ing = _ingest(tmp_settings, fake_embedder, tmp_path / "in", ["orchard.txt"], entities=True)
    assert read == [{"orchard.txt"}]  # the two unchanged documents came from the previous cache
    carried = _files(_live_cache(tmp_settings))

    full = tmp_path / "full"
    full.mkdir()
    monkeypatch.setattr(cache_build, "_read_sentences", real)
    docs, rows, vectors, _ = cache_build._read_rows(tmp_settings, ing.writer.cols, tmp_path / "no-cache")
    write_cache(full, docs, rows, vectors)
    assert carried == _files(full)
    people = json.loads(carried["person_words.json"])  # merged: the earlier documents' and the new one's
    assert people.get("varga") == [0] and people.get("brem") == [1]
    assert json.loads(carried["meta.json"])["doc_ids"] == ["harbour.txt", "orchard.txt", "river.txt"]


def test_a_changed_document_is_read_again(tmp_path: Path, tmp_settings: Settings, fake_embedder) -> None:
    _ingest(tmp_settings, fake_embedder, tmp_path / "in", ["harbour.txt", "orchard.txt"])
    changed = "The orchard near Lenz was sold in 2001."
    (tmp_path / "in" / "orchard.txt").write_text(changed, encoding="utf-8")
    ing = Ingestor(tmp_settings, embedder=fake_embedder, with_entities=False)
    root = cache_root(tmp_settings)
    current = {e.doc_id: e for e in read_manifest(ing.writer.cols.manifest).values() if e.content_hash}
    before = carried_documents(root, current)
    assert before is not None and set(before.ranges) == {"harbour.txt", "orchard.txt"}
    ing.ingest_paths([tmp_path / "in" / "orchard.txt"])
    texts = [s.text for s in read_snapshot(tmp_settings).sentences]
    assert changed in texts and "Brem sells cider at the market." not in texts


def test_a_cache_from_other_code_is_not_carried(
    tmp_path: Path, tmp_settings: Settings, fake_embedder
) -> None:
    ing = _ingest(tmp_settings, fake_embedder, tmp_path / "in", ["harbour.txt"])
    root = cache_root(tmp_settings)
    meta_path = _live_cache(tmp_settings) / "meta.json"
    current = {e.doc_id: e for e in read_manifest(ing.writer.cols.manifest).values() if e.content_hash}
    assert carried_documents(root, current) is not None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["builder"] == builder_key()
    meta_path.write_text(json.dumps({**meta, "builder": "older-code"}), encoding="utf-8")
    assert carried_documents(root, current) is None
    assert carried_documents(tmp_path / "nowhere", current) is None


def test_carried_centroids_assign_every_row_to_its_nearest(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(400, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centroids, _, _ = build(vectors[:300], k=10)
    again, order, offsets = build(vectors, centroids=centroids)
    assert again is centroids and len(offsets) == 11 and sorted(order.tolist()) == list(range(400))
    nearest = np.argmax(vectors @ centroids.T, axis=1)
    for c in range(10):
        assert set(order[offsets[c] : offsets[c + 1]].tolist()) == set(np.flatnonzero(nearest == c).tolist())



def test_the_previous_folder_may_vanish_once_carried(
    tmp_path: Path, tmp_settings: Settings, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's clean-up may delete the previous generation while this one builds."""
    _ingest(tmp_settings, fake_embedder, tmp_path / "in", ["harbour.txt", "river.txt"], entities=True)
    previous = _live_cache(tmp_settings)
    monkeypatch.setattr(Ingestor, "refresh_cache", lambda self: None)  # the third document: no cache yet
    ing = _ingest(tmp_settings, fake_embedder, tmp_path / "in", ["orchard.txt"], entities=True)
    current = {e.doc_id: e for e in read_manifest(ing.writer.cols.manifest).values() if e.content_hash}
    carried = carried_documents(cache_root(tmp_settings), current)
    assert carried is not None and carried.grown and set(carried.ranges) == {"harbour.txt", "river.txt"}
    shutil.rmtree(previous)
    docs, rows, vectors, _ = cache_build._read_rows(tmp_settings, ing.writer.cols, tmp_path / "no-cache")
    out, full = tmp_path / "out", tmp_path / "full"
    out.mkdir()
    full.mkdir()
    write_cache(out, docs, rows, vectors, carried=carried)
    write_cache(full, docs, rows, vectors)
    assert _files(out) == _files(full)
