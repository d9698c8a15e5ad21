"""Finding candidate sentences: the query embedder (``embedder``), BM25 over a saved index
(``bm25_mmap``), the IVF dense index (``ivf``), the fused ranking (``retrieve``) and the look-ups
follow-ups need on a large corpus (``followup_lookup``). Imports ``language`` and ``core``."""
