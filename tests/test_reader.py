"""The trained reader: its plumbing with a fake (fast) and the shipped weights (slow)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from assistant import answer as answer_mod
from assistant import policy as policy_mod
from train.reader_runtime import MODEL_DIR, Reader, Reading, second_text
from assistant.support import Evidence
from assistant.types import Entity, Sentence


def _sentence(i: int, text: str) -> Sentence:
    return Sentence(doc_id="d.txt", sentence_id=i, text=text, start=0, end=len(text))


def _evidence(i: int, text: str, score: float, **kw: object) -> Evidence:
    base = dict(
        index=i,
        sentence=_sentence(i, text),
        retrieval=score,
        dense=0.5,
        coverage=0.5,
        own_coverage=0.5,
        predicate=0.5,
        oov=0.0,
        entities_found=1.0,
        type_ok=True,
        score=score,
    )
    base.update(kw)
    return Evidence(**base)  # type: ignore[arg-type]


@dataclass
class _FakeReader:
    """Scores a candidate by whether it contains ``needle``; records what it was asked."""

    needle: str
    calls: int = 0

    def read(self, question: str, candidates: list[tuple[str, str]]) -> list[Reading]:
        self.calls += 1
        return [Reading(prob=0.9 if self.needle in s else 0.01) for s, _prev in candidates]


class _Ctx:
    def __init__(self, texts: list[str]) -> None:
        self.sentences = [_sentence(i, t) for i, t in enumerate(texts)]


def test_reader_reorders_only_the_candidates_it_reads() -> None:
    texts = ["Prices rose last year.", "The bridge opened in May.", "It rained.", "The answer is here."]
    ctx = _Ctx(texts)
    cands = [_evidence(i, t, 1.0 - 0.1 * i) for i, t in enumerate(texts)]
    fake = _FakeReader("answer")
    out = answer_mod._apply_reader(fake, "q?", ctx, cands[:3] + cands[3:], n=4)  # type: ignore[arg-type]
    assert fake.calls == 1  # one batched forward
    assert out[0].sentence.text == "The answer is here."
    assert out[0].reader == pytest.approx(0.9)
    out2 = answer_mod._apply_reader(fake, "q?", ctx, cands, n=2)  # type: ignore[arg-type]
    assert [c.reader for c in out2[2:]] == [-1.0, -1.0]  # the unread keep their rule scores, behind
    assert out2[2].score == cands[2].score


@pytest.mark.parametrize(
    ("prob", "predicate", "dense", "expected"),
    [
        (0.9, 0.0, 0.1, True),  # the reader is sure: a paraphrase with no shared words answers
        (0.01, 1.0, 0.9, False),  # the reader is sure it does not: overlap alone does not answer
        (-1.0, 1.0, 0.9, True),  # no reader: the rules decide, as before
        (-1.0, 0.0, 0.1, False),
    ],
)
def test_support_decision_uses_reader(
    prob: float, predicate: float, dense: float, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.analysis import analyze

    # the accept/reject thresholds switched on (the dev-tuned defaults leave both off)
    on = replace(policy_mod.POLICY, reader_accept=0.5, reader_reject=0.05)
    monkeypatch.setattr(policy_mod, "POLICY", on)
    info = analyze("What did the council decide about the bridge?")
    ev = _evidence(0, "x", 1.5, reader=prob, predicate=predicate, dense=dense)
    assert (answer_mod._support_problem(info, ev) is None) is expected


def test_span_score_and_pick_use_the_marked_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "The mayor, Ana Costa, opened the bridge in Lisbon."
    offsets = ((0, 3), (4, 9), (11, 14), (15, 20), (22, 28), (33, 39), (40, 42), (43, 49))
    start = (0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    end = (0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 1.0)
    reading = Reading(
        prob=0.9, span=(11, 20), span_score=9.0, start_logits=start, end_logits=end, offsets=offsets
    )
    assert Reader.span_score(reading, 11, 20) == pytest.approx(10.0)
    assert Reader.span_score(reading, 43, 49) == pytest.approx(2.0)
    assert Reader.span_score(reading, 100, 110) == float("-inf")
    ev = _evidence(0, text, 1.0, reading=reading, reader=0.9)
    options = [Entity("Lisbon", "GPE", 43, 49), Entity("Ana Costa", "PERSON", 11, 20)]
    lisbon = options[0]
    assert answer_mod._reader_pick(ev, options, None).text == "Ana Costa"
    # the rules' pick stands unless the reader prefers another by reader_pick_margin logits
    assert answer_mod._reader_pick(ev, options, lisbon).text == "Ana Costa"  # 10 > 2 + 1
    strict = replace(policy_mod.POLICY, reader_pick_margin=9.0)
    monkeypatch.setattr(policy_mod, "POLICY", strict)
    assert answer_mod._reader_pick(ev, options, lisbon).text == "Lisbon"  # 10 < 2 + 9
    assert answer_mod._reader_span(ev) == "Ana Costa"


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


def test_refusal_shows_related_sentences_only_when_close_in_meaning() -> None:
    """Issue 14 item 11: an off-topic question's refusal lists no unrelated "related" cards."""
    from assistant.analysis import analyze
    from assistant.conversation import Turn
    from assistant.types import Reason

    q = "What is the population of Brazil?"
    near = _evidence(0, "The bridge will carry 40,000 cars a day.", 0.9, dense=0.55)
    far = _evidence(1, "Up to 26 countries agreed to take part.", 0.8, dense=0.12)
    out = answer_mod._refuse(
        Turn(q, q), analyze(q), Reason.LOW_SUPPORT, "The documents do not say.", [near, far]
    )
    assert out.refused and out.reason == "low_support"
    assert [c.text for c in out.related] == [near.sentence.text]
    none = answer_mod._refuse(Turn(q, q), analyze(q), Reason.LOW_SUPPORT, "The documents do not say.", [far])
    assert none.related == []
