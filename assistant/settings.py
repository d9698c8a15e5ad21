"""Public import path kept for users: the settings live in ``assistant.core.settings``.

Code in this project imports ``assistant.core.settings`` (an import-linter contract checks it)."""

from assistant.core.settings import PROJECT_ROOT, Settings, default_model_path

__all__ = ["PROJECT_ROOT", "Settings", "default_model_path"]
