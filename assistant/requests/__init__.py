"""A request before it is answered: ``validate`` checks and normalises ``ask``'s arguments (the
question, the history, the backend, the document filter). Imports ``backends`` and below."""
