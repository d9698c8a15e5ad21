"""Open the index for answering: the memory-mapped query cache when it is current, else build it.

Its own module so that the layers import one way — ``store`` (Chroma) and ``snapshot`` (the cache
format) know nothing of each other's callers, ``cache_build`` writes the cache from ``store`` — and
this function, the only one that needs all three, sits on top.
"""

from __future__ import annotations

from typing import Any

from assistant.core.errors import IndexCorruptError, IndexMissingError
from assistant.core.settings import Settings
from assistant.index.cache_build import ensure_cache
from assistant.index.snapshot import IndexSnapshot, cache_root, current_generation, open_cache
from assistant.index.store import get_collections, open_client


def read_snapshot(settings: Settings, client: Any | None = None) -> IndexSnapshot:
    """The index's snapshot: the embedded index's live cache is opened without touching
    Chroma; otherwise (server mode, no cache yet, an explicit client) Chroma's generation
    picks the cache, which is built first when missing.

    Raises ``IndexMissingError`` when nothing was ingested (without creating anything) and
    ``IndexCorruptError`` when the stored rows are unreadable.
    """
    root = cache_root(settings)
    if client is None and not settings.chroma_host:
        if settings.index_dir.exists() and not settings.index_dir.is_dir():
            raise IndexCorruptError(f"the index path {settings.index_dir} is a file, not a folder; set "
                                    "ASSISTANT_INDEX_DIR (or --index-dir) to a folder")
        gen = current_generation(root)
        try:
            snap = open_cache(root, gen) if gen else None
        except IndexCorruptError:
            if not (settings.index_dir / "chroma.sqlite3").exists():
                raise
            snap = None  # damaged: ``ensure_cache`` below rebuilds it from Chroma
        if snap is not None:
            return snap
        if not (settings.index_dir / "chroma.sqlite3").exists():
            # Checked before opening: PersistentClient would create an empty index as a side effect.
            raise IndexMissingError(
                f"no index at {settings.index_dir}; build it with: python -m ingest data/"
            )
    client = client or open_client(settings)
    cols = get_collections(client, settings, create=False)
    return ensure_cache(settings, cols)
