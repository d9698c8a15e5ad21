"""A process answering from one cache generation keeps answering when another ingest makes the
next one and deletes the folder it reads (``cache_build._clean``)."""

from __future__ import annotations

from pathlib import Path

from assistant.core.settings import Settings
from assistant.engine import Assistant
from assistant.index.snapshot import cache_root, current_generation
from ingest.pipeline import Ingestor


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
