"""What ``Blocks.launch`` is given so the server keeps its limits: one place, used by
``python -m ui`` and by the tests that start a live server.

* ``max_file_size``: without it Gradio stored a 50 MB upload although ingest refuses anything
  over ``MAX_FILE_BYTES`` (issue 12) — the limit now holds when the bytes arrive (HTTP 413);
* ``LoginThrottle`` (``ui/throttle.py``): repeated wrong logins make a client wait;
* ``UploadGuard`` (``ui/upload_guard.py``): per-client and total upload quotas;
* the ``FileKeeper``'s lifespan (``ui/files.py``): the periodic sweep of the upload folder;
* uvicorn's proxy trust from ``ASSISTANT_TRUSTED_PROXIES`` (``ui/proxies.py``): by default no
  forwarding header chooses the client address the throttle and the quotas count by.

The upload-folder helpers are re-exported here for the callers that knew them from this module.
"""

from __future__ import annotations

from typing import Any

from assistant.core.settings import Settings
from ui.files import MARKER, FileKeeper, discard_uploads, discarding, prepare_upload_dir
from ui.proxies import apply_proxy_trust
from ui.throttle import LoginThrottle
from ui.upload_guard import UploadGuard

__all__ = ["MARKER", "FileKeeper", "LoginThrottle", "UploadGuard", "discard_uploads", "discarding",
           "prepare_upload_dir", "server_options"]


def server_options(settings: Settings, files: FileKeeper | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: the upload limit, the login throttle, the upload
    quotas and the sweep of ``files`` (by default the keeper of ``settings.upload_dir``).

    Also sets which proxies uvicorn trusts (an environment variable it reads when ``launch``
    builds its config), so call it right before ``launch``; a bad ``trusted_proxies`` raises
    ValueError.
    """
    from starlette.middleware import Middleware

    apply_proxy_trust(settings)
    keeper = files if files is not None else FileKeeper.from_settings(settings)
    throttle = Middleware(LoginThrottle, max_failures=settings.login_max_failures,
                          lockout_s=settings.login_lockout_s)
    guard = Middleware(UploadGuard, keeper=keeper)
    return {"max_file_size": settings.max_file_bytes,
            "app_kwargs": {"middleware": [throttle, guard], "lifespan": keeper.lifespan}}
