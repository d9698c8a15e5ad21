"""Training code for the reader (never imported on the question path)."""
