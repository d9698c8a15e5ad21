"""A process answering from one cache generation keeps answering when another ingest makes the
next one and deletes the folder it reads (``cache_build._clean``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant.core.settings import Settings
from assistant.engine import Assistant
from assistant.index.snapshot import cache_root, current_generation
from ingest.pipeline import Ingestor

HARBOUR = "Mayor Ilse Varga opened the harbour on Monday."


def _ingest(settings: Settings, embedder: object, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    report = Ingestor(settings, embedder=embedder, with_entities=False).ingest_paths([path])
    assert not report.errors, report.errors


def test_a_loaded_assistant_outlives_its_generations_folder(
    tmp_path: Path, tmp_settings: Settings, fake_embedder
) -> None:
    _ingest(tmp_settings, fake_embedder, tmp_path / "harbour.txt",
            "Mayor Ilse Varga opened the harbour on Monday. The quay cost 40 million.")
    bot = Assistant(tmp_settings, embedder=fake_embedder)
    assert bot.sentences  # loaded: the cache is open, nothing read on first use yet
    root = cache_root(tmp_settings)
    first = root / f"gen-{current_generation(root)}"
    _ingest(tmp_settings, fake_embedder, tmp_path / "orchard.txt", "The orchard grows 300 apple trees.")
    assert not first.exists()  # the next generation's clean-up took the folder
    answer = bot.ask("Who opened the harbour?")
    assert not answer.error, answer.error
    assert answer.citations and answer.citations[0].doc_id == "harbour.txt"
    bot.reload()
    assert {d for d in bot.documents} == {"harbour.txt", "orchard.txt"}


def test_an_assistant_follows_another_process_ingest(
    tmp_path: Path, tmp_settings: Settings, fake_embedder
) -> None:
    settings = replace(tmp_settings, follow_ingests_s=0.0)  # look before every question
    _ingest(settings, fake_embedder, tmp_path / "harbour.txt", HARBOUR)
    bot = Assistant(settings, embedder=fake_embedder)
    assert set(bot.documents) == {"harbour.txt"}
    _ingest(settings, fake_embedder, tmp_path / "orchard.txt", "The orchard near Lenz grows 300 apple trees.")
    answer = bot.ask("How many apple trees does the orchard grow?")
    assert set(bot.documents) == {"harbour.txt", "orchard.txt"}  # no reload() called
    assert not answer.error and any(c.doc_id == "orchard.txt" for c in answer.citations + answer.related)


def test_a_given_snapshot_or_a_negative_interval_is_not_followed(
    tmp_path: Path, tmp_settings: Settings, fake_embedder
) -> None:
    settings = replace(tmp_settings, follow_ingests_s=-1.0)
    _ingest(settings, fake_embedder, tmp_path / "harbour.txt", HARBOUR)
    bot = Assistant(settings, embedder=fake_embedder)
    assert set(bot.documents) == {"harbour.txt"}
    _ingest(settings, fake_embedder, tmp_path / "orchard.txt", "The orchard near Lenz grows 300 apple trees.")
    bot.ask("How many apple trees does the orchard grow?")
    assert set(bot.documents) == {"harbour.txt"}
    bot.reload()
    assert set(bot.documents) == {"harbour.txt", "orchard.txt"}
