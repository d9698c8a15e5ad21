"""``python -m ui``: the web chat on settings.host:settings.port, offline and optionally behind auth.

Checks the index before starting the server, because a page that only fails on the first
question is worse than a clear message in the terminal.
"""

from __future__ import annotations

import os
import sys

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported anywhere
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import Assistant, AssistantError
from assistant.core.settings import Settings
from ui.proxies import parse_trusted_proxies

NO_INDEX = ("There is no index to answer from yet ({reason}).\n"
            "Run `make run` (it ingests data/ first), or `.venv/bin/python -m ingest data/` and then "
            "`.venv/bin/python -m ui`.")


def parse_auth(raw: str) -> tuple[str, str] | None:
    """``"user:password"`` -> ``("user", "password")``; empty -> no login; malformed -> ValueError."""
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise ValueError("ASSISTANT_AUTH must look like user:password")
    return user, password


def main() -> int:
    settings = Settings.from_env()  # sets the offline switches before gradio is imported
    try:
        auth = parse_auth(settings.auth)
        parse_trusted_proxies(settings.trusted_proxies)  # a typo must not start a server
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    assistant = Assistant(settings)
    try:
        docs = assistant.documents  # loads the index and the model once, before the first visitor
    except AssistantError as exc:
        print(NO_INDEX.format(reason=exc), file=sys.stderr)
        return 1

    from ui.files import remove_legacy_exports
    from ui.server import FileKeeper, prepare_upload_dir, server_options

    prepare_upload_dir(settings.upload_dir)  # before Gradio reads GRADIO_TEMP_DIR
    remove_legacy_exports()  # what exports of earlier versions left in the system temp folder
    files = FileKeeper.from_settings(settings)  # every file the server writes, swept while it runs

    from ingest.pipeline import Ingestor
    from ui.app import build_app
    from ui.style import launch_options

    print(f"{len(docs)} document(s) indexed; chat on http://{settings.host}:{settings.port}"
          + (" (login required)" if auth else ""))
    options = server_options(settings, files)
    build_app(assistant, Ingestor(settings), files=files).queue().launch(
        server_name=settings.host, server_port=settings.port, auth=auth, **launch_options(), **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
