"""Reliability, risk–coverage and selective accuracy of the answerer's P(right) (``eval.calibration``)."""

from __future__ import annotations

import pytest

from eval.calibration import calibration
from eval.dataset import Evidence, GoldItem
from eval.records import Outcome


def _item(i: int, answerable: bool = True) -> GoldItem:
    ev = (Evidence("d.txt", 0, 3, "Ana", (0,)),) if answerable else ()
    return GoldItem(id=f"q{i}", category="factoid" if answerable else "not_in_article", question="Who?",
                    answerable=answerable, reference="Ana", must=(("Ana",),) if answerable else (),
                    evidence=ev,
                    split="test")


def _o(i: int, short: str, p: float, certainty: str, refused: bool = False) -> Outcome:
    return Outcome(f"q{i}", text=short, refused=refused, short_answer=short, confidence=p,
                   certainty=certainty)


def test_reliability_risk_coverage_and_confident_answers() -> None:
    pairs = [
        (_item(0), _o(0, "Ana", 0.9, "confident")),
        (_item(1), _o(1, "Rui", 0.85, "confident")),  # wrong, though confident
        (_item(2), _o(2, "Ana", 0.5, "probable")),
        (_item(3), _o(3, "Rui", 0.3, "probable")),
        (_item(4, answerable=False), _o(4, "", 0.1, "unsure", refused=True)),  # refusals are not answers
    ]
    c = calibration(pairs)
    assert [(b, n) for b, n, _p, _r in c.reliability] == [("0.2–0.4", 1), ("0.4–0.6", 1), ("0.8–1.0", 2)]
    assert c.reliability[-1][3] == pytest.approx(0.5)
    assert c.risk_coverage[-1] == (1.0, 0.3, 0.5)  # all four answers: two right
    assert c.risk_coverage[1][2] == pytest.approx(0.5)  # the top 40%: 0.9 right, 0.85 wrong
    assert c.confident == (pytest.approx(0.4), pytest.approx(0.5))


def test_no_judged_answers_give_empty_tables() -> None:
    c = calibration([(_item(0), Outcome("q0", text="x", refused=True))])
    assert c.reliability == [] and c.risk_coverage == [] and c.confident == (0.0, None)
