"""The saved index: Chroma (``store``), the query cache built from it (``cache_build``, which stores
the answerer's corpus tables, hence above ``answering``), read back memory-mapped (``snapshot``)
and opened for a question (``index_view``)."""
