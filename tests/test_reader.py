"""The reader experiment (``train/reader_runtime.py``, not part of the product): its plumbing
with a fake (fast) and trained weights when there are some (slow)."""

from __future__ import annotations

import pytest

from train.reader_runtime import MODEL_DIR, Reader, second_text


def _reader_over_fixed_logits(span_weight: float) -> Reader:
    """A Reader whose tokenizer and ONNX session are fakes: one candidate of three sentence
    tokens, answer logit 2.0, the span logits marking the second token."""
    import threading

    import numpy as np

    class Enc:
        ids = (101, 7, 8, 9, 102)
        type_ids = (0, 1, 1, 1, 1)
        sequence_ids = (None, 1, 1, 1, None)
        offsets = ((0, 0), (0, 3), (4, 9), (10, 14), (0, 0))

    class Tok:
        def encode_batch(self, texts: list) -> list:
            return [Enc() for _ in texts]

    class Session:
        def run(self, _names: object, feeds: dict) -> tuple:
            span = np.full((1, 5, 2), -5.0, dtype=np.float32)
            span[0, 2] = 6.0
            return np.array([[2.0]], dtype=np.float32), span

    r = object.__new__(Reader)
    r.meta = {"train": {"span_weight": span_weight}}
    r.spans = Reader.has_spans(r.meta)
    r._context, r._tok, r._session, r._lock = 24, Tok(), Session(), threading.Lock()
    r._words = np.zeros((200, 4), dtype=np.float32)
    return r


def test_a_reader_trained_without_span_loss_marks_no_span() -> None:
    """Its span head is untrained: its readings must not steer short answers."""
    with_spans = _reader_over_fixed_logits(1.0).read("q?", [("The house fell.", "")])[0]
    assert with_spans.span == (4, 9) and with_spans.offsets
    without = _reader_over_fixed_logits(0.0).read("q?", [("The house fell.", "")])[0]
    assert without.span == (0, 0) and not without.offsets
    assert without.prob == pytest.approx(with_spans.prob) == pytest.approx(0.8808, abs=1e-3)


def test_second_text_puts_the_candidate_first() -> None:
    assert second_text("B.", "", 24) == "B."
    assert second_text("B.", "one two three", 2) == "B. [SEP] two three"


shipped = pytest.mark.skipif(not (MODEL_DIR / "reader.json").exists(), reason="no shipped reader")


@pytest.mark.slow
@shipped
def test_shipped_reader_separates_an_answer_from_a_non_answer() -> None:
    reader = Reader()
    q = "Where did the ministers meet on Tuesday?"
    yes, no = reader.read(
        q,
        [
            ("The ministers met in Vienna on Tuesday to discuss the budget.", ""),
            ("Wheat prices fell by three percent over the last year.", ""),
        ],
    )
    assert yes.prob > 0.5 > no.prob
    assert yes.prob - no.prob > 0.5
    s = "The ministers met in Vienna on Tuesday to discuss the budget."
    assert "Vienna" in s[yes.span[0] : yes.span[1]]
