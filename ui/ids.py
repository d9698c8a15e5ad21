"""Document ids of browser uploads: ``session-<owner>/<file name>``, and how people see them.

Kept apart from ``ui/library.py`` so the pure HTML builders can name documents without
importing the index or the loaders.
"""

from __future__ import annotations

PREFIX = "session-"


def owner_of(doc_id: str) -> str | None:
    """The browser token an uploaded document belongs to; None for the shared corpus."""
    if not doc_id.startswith(PREFIX) or "/" not in doc_id:
        return None
    return doc_id[len(PREFIX):].split("/", 1)[0] or None


def display_name(doc_id: str) -> str:
    """A document id as people should see it: a browser's upload without its token."""
    return doc_id.split("/", 1)[1] if owner_of(doc_id) else doc_id


def upload_id(owner: str, name: str) -> str:
    """The id of ``name`` uploaded by the browser ``owner``."""
    return f"{PREFIX}{owner}/{name}"
