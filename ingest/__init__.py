"""Ingest: files -> sentences with offsets -> chunks -> embeddings -> Chroma."""
