"""One lifecycle for every file the web server writes: uploads, exports, Gradio's copies.

Why (issues 12 and 23): uploads posted straight to Gradio's upload route, without the Documents
tab's event, were never deleted (50 posts of 150 KB left 7.5 MB, each fetchable by its URL), and
every "Export conversation" left a ``docqa-export-*`` folder in the system temp folder that no
clean-up knew about. Now every such file lives in one folder (``Settings.upload_dir``, which is
also Gradio's ``GRADIO_TEMP_DIR``), and one rule holds for all of it:

* emptied at start (``prepare_upload_dir``; ``remove_legacy_exports`` removes the old
  ``docqa-export-*`` folders);
* an upload is deleted once indexed or refused (``discarding``), and is never swept while that
  happens (``FileKeeper.hold``);
* anything else is deleted ``ui_file_grace_s`` seconds after it was last written, by a sweep
  that runs with the server (``FileKeeper.lifespan``);
* exports are owned by the browser that asked (``exports/<owner>/``; its newest few are kept);
* raw uploads are owned by the client address that posted them, for the quotas the upload
  guard enforces (``ui/upload_guard.py``): bytes and files per client, bytes in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from assistant.core.settings import Settings

log = logging.getLogger(__name__)

MARKER = ".docqa-uploads"  # only a folder holding this file is ever emptied or swept
EXPORTS = "exports"
EXPORTS_KEPT = 3  # per browser: its tabs may each have an export on screen
LEGACY_EXPORT_PREFIX = "docqa-export-"  # folders the earlier export code left in the temp folder
LEGACY_MIN_AGE_S = 600.0  # ... removed once this old (another server of the old code may be serving one)
MAX_CLIENT_FILES = 500  # raw uploads one client may have waiting (bytes alone do not bound inodes)
OWNER_NAME = re.compile(r"[0-9a-f]{8,64}")


# -- the folder ---------------------------------------------------------------------------------
def prepare_upload_dir(folder: Path) -> Path:
    """Create (or empty) the upload folder and point Gradio at it (before Gradio starts a server).

    A folder that exists without our marker file is left as it is (it may be somebody's data);
    its old files then stay, and a warning says why.
    """
    folder = folder.resolve()
    if folder.exists() and not (folder / MARKER).exists() and any(folder.iterdir()):
        log.warning("upload folder %s is not empty and was not made by docqa: not cleaning it", folder)
    else:
        if folder.exists():
            for child in folder.iterdir():
                if child.name != MARKER:
                    remove(child)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).touch()
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return folder


def remove_legacy_exports(temp_dir: Path | None = None, min_age_s: float = LEGACY_MIN_AGE_S) -> int:
    """Delete the ``docqa-export-*`` folders the export code before issue 23 left in ``temp_dir``
    (the system temp folder by default; those not written in the last ``min_age_s`` seconds).
    Called once at server start; returns how many."""
    temp_dir = temp_dir if temp_dir is not None else Path(tempfile.gettempdir())
    removed = 0
    now = time.time()
    for child in temp_dir.glob(LEGACY_EXPORT_PREFIX + "*"):
        if child.is_dir() and not child.is_symlink() and now - _mtime(child) >= min_age_s:
            remove(child)
            removed += 1
    return removed


def remove(path: Path) -> None:
    """Delete a file or a folder tree; a failure is logged (a file in use goes at the next sweep)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)


def discard_uploads(paths: Any, folder: Path | None = None) -> int:
    """Delete uploaded files that lie inside Gradio's upload folder (and their emptied hash
    folders); any other path is left alone. Returns how many files were deleted."""
    if folder is None:
        from gradio.utils import get_upload_folder

        folder = Path(get_upload_folder())
    root = folder.resolve()
    deleted = 0
    for path in _paths(paths):
        if root not in path.parents or not path.is_file():
            continue
        remove(path)
        deleted += 1
        parent = path.parent
        if parent != root and root in parent.parents and not any(parent.iterdir()):
            remove(parent)
    return deleted


def _paths(paths: Any) -> list[Path]:
    """Resolved paths from a path, a list of them, or Gradio file objects (``.path``)."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths or [])
    return [Path(getattr(item, "path", item)).resolve() for item in items]


# -- the keeper ---------------------------------------------------------------------------------
class FileKeeper:
    """The upload folder's owner: export folders, files in use, raw uploads per client, the sweep."""

    def __init__(self, folder: Path, grace_s: float = 600.0, quota_bytes: int = 500_000_000,
                 client_quota_bytes: int = 100_000_000, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder.resolve()
        self.grace_s = max(0.0, grace_s)
        self.quota_bytes = quota_bytes
        self.client_quota_bytes = client_quota_bytes
        self.clock = clock  # wall-clock: compared with file modification times
        self._lock = threading.Lock()
        self._held: dict[Path, int] = {}  # path -> how many handlers are reading it
        self._uploads: dict[Path, str] = {}  # raw upload -> the client address that posted it
        self._arriving: dict[str, int] = {}  # client -> bytes of its uploads still being received

    @classmethod
    def from_settings(cls, settings: Settings) -> FileKeeper:
        """The keeper of ``settings.upload_dir`` with the configured grace period and quotas."""
        return cls(settings.upload_dir, settings.ui_file_grace_s, settings.ui_upload_quota_bytes,
                   settings.ui_client_quota_bytes)

    @property
    def sweep_every_s(self) -> float:
        """How often the sweep runs: often enough that nothing outlives its grace by much."""
        return min(60.0, max(0.1, self.grace_s / 4))

    # -- exports ----------------------------------------------------------------------------------
    def export_dir(self, owner: str) -> Path:
        """A new folder for one export of ``owner``'s browser; its older exports beyond the
        newest ``EXPORTS_KEPT`` are deleted now, the rest by the sweep."""
        name = owner if OWNER_NAME.fullmatch(owner or "") else "anonymous"
        base = self.folder / EXPORTS / name
        base.mkdir(parents=True, exist_ok=True)
        older = sorted(base.iterdir(), key=_mtime, reverse=True)
        for stale in older[EXPORTS_KEPT - 1:]:
            remove(stale)
        fresh = base / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
        fresh.mkdir(parents=True)  # the sweep may have just removed an empty ``base``
        return fresh

    # -- files in use -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self, paths: Any) -> Iterator[None]:
        """Keep ``paths`` from the sweep while a handler reads them (indexing may outlast the grace)."""
        held = _paths(paths)
        with self._lock:
            for p in held:
                self._held[p] = self._held.get(p, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for p in held:
                    left = self._held.get(p, 1) - 1
                    if left > 0:
                        self._held[p] = left
                    else:
                        self._held.pop(p, None)

    # -- raw uploads and quotas -------------------------------------------------------------------
    def record_uploads(self, client: str, paths: Iterable[str]) -> None:
        """Note which client posted which stored files (for its quota)."""
        with self._lock:
            for p in _paths(list(paths)):
                if self.folder in p.parents:
                    self._uploads[p] = client

    def arriving(self, client: str, delta: int) -> tuple[int, int]:
        """Count ``delta`` more bytes arriving from ``client`` (negative once its request ended);
        returns (the client's, everyone's) bytes arriving now. Uploads in parallel share one room."""
        with self._lock:
            now = self._arriving.get(client, 0) + delta
            if now > 0:
                self._arriving[client] = now
            else:
                self._arriving.pop(client, None)
            return max(0, now), sum(self._arriving.values())

    def client_usage(self, client: str) -> tuple[int, int]:
        """(files, bytes) the client's raw uploads hold on disk, plus the bytes still arriving."""
        with self._lock:
            mine = [p for p, who in self._uploads.items() if who == client]
            arriving = self._arriving.get(client, 0)
        sizes = [s for s in (_size(p) for p in mine) if s is not None]
        return len(sizes), sum(sizes) + arriving

    def usage(self) -> tuple[int, int]:
        """(files, bytes) in the whole folder, plus the bytes of uploads still arriving."""
        sizes = [_size(p) or 0 for p in self._files()]
        with self._lock:
            arriving = sum(self._arriving.values())
        return len(sizes), sum(sizes) + arriving

    def refusal(self, client: str, incoming: int) -> tuple[int, str] | None:
        """Why an upload of ``incoming`` bytes from ``client`` must be refused now, as
        (HTTP status, message); None when it fits."""
        files, used = self.client_usage(client)
        if files >= MAX_CLIENT_FILES or used + incoming > self.client_quota_bytes:
            return 429, (f"Upload quota reached: {used / 1e6:.1f} MB in {files} file(s) of yours are waiting "
                         f"(limit {self.client_quota_bytes / 1e6:.0f} MB, {MAX_CLIENT_FILES} files); "
                         f"they are deleted once indexed or after {self.grace_s:.0f} s.")
        if self.usage()[1] + incoming > self.quota_bytes:
            return 507, "The server's upload space is full; try again in a few minutes."
        return None

    def limits(self, client: str) -> tuple[int, int]:
        """(client, server) bytes an upload starting now may bring in, counted together with the
        uploads arriving alongside it (what is on disk now is taken off once, here)."""
        with self._lock:
            mine, everyone = self._arriving.get(client, 0), sum(self._arriving.values())
        own = self.client_quota_bytes - (self.client_usage(client)[1] - mine)
        total = self.quota_bytes - (self.usage()[1] - everyone)
        return own, total

    # -- the sweep --------------------------------------------------------------------------------
    def _files(self) -> list[Path]:
        if not (self.folder / MARKER).exists():
            return []  # not our folder (prepare_upload_dir refused it): never delete from it
        return [p for p in self.folder.rglob("*") if p.is_file() and p.name != MARKER]

    def sweep(self, now: float | None = None) -> int:
        """Delete every file older than the grace period that no handler holds, then the
        folders that emptied; returns how many files went."""
        now = self.clock() if now is None else now
        with self._lock:
            held = set(self._held)
        gone = 0
        for path in self._files():
            age = now - (_mtime(path) or now)
            if path not in held and age >= self.grace_s:
                remove(path)
                if not path.exists():
                    gone += 1
        for folder in sorted((p for p in self.folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            if now - (_mtime(folder) or now) >= self.grace_s and not any(folder.iterdir()):
                remove(folder)
        with self._lock:
            self._uploads = {p: c for p, c in self._uploads.items() if p.exists()}
        if gone:
            log.info("deleted %d expired file(s) from %s", gone, self.folder)
        return gone

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """Run the sweep every ``sweep_every_s`` while the server runs (a FastAPI lifespan)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(self.sweep_every_s)
                try:
                    await asyncio.to_thread(self.sweep)
                except Exception:  # a clean-up must never take the server down
                    log.exception("the upload folder sweep failed")

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def discarding(handler: Callable[..., Iterator[Any]], keeper: FileKeeper | None = None
               ) -> Callable[..., Iterator[Any]]:
    """Wrap an upload event handler (a generator whose first argument is the uploaded files):
    the files are held from the sweep while it runs and deleted when it ends, whether they
    were indexed, refused or cancelled."""

    @functools.wraps(handler)
    def wrapper(files: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with keeper.hold(files) if keeper is not None else contextlib.nullcontext():
            try:
                yield from handler(files, *args, **kwargs)
            finally:
                discard_uploads(files, keeper.folder if keeper is not None else None)

    return wrapper
