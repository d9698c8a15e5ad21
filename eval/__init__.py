"""Evaluation: gold Q&A, grounded-answer metrics and reports."""
