"""Words and questions, no index: folding and terms (``text``), figures in text (``figures``), the
shared patterns, WordNet (``lexicon``), what a question asks for (``question``), misspelt names
(``spelling``), is it English (``check``), and follow-ups resolved against the chat
(``conversation``). Imports only ``assistant.core``."""
