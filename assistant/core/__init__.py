"""The bottom layer, imported by every other: the shared types (``types``: documents, sentences,
citations, answers), the errors, the settings (``settings``), and the row containers over the
indexed sentences (``lazy_rows``, ``doc_rows``). Imports nothing else of ``assistant``."""
