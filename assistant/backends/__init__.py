"""Who writes the answer: the registry of backends (``registry``: the extractive answerer, the LLM),
the LLM backend (``llm_backend``), its server client (``llm_client``) and the extractive fallback
(``llm_fallback``). Imports ``answering`` and below."""
