"""SQuAD 2.0's official answer scoring: normalisation, exact match and token F1.

Re-implemented from the official ``evaluate-v2.0.py`` (Rajpurkar et al., 2018) so the
numbers are comparable with published SQuAD figures: lower-case, drop punctuation and the
articles a/an/the, collapse whitespace; F1 over the bag of normalised tokens; the best score
over the gold answers; a no-answer question scores 1 only when the prediction is empty.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Official normalisation: lower case, no punctuation, no articles, single spaces."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", s).split())


def _tokens(s: str) -> list[str]:
    return normalize_answer(s).split() if s else []


def exact(gold: str, pred: str) -> float:
    return float(normalize_answer(gold) == normalize_answer(pred))


def f1(gold: str, pred: str) -> float:
    """Token-overlap F1 of one gold answer and the prediction (official definition)."""
    g, p = _tokens(gold), _tokens(pred)
    if not g or not p:
        return float(g == p)
    common = sum((Counter(g) & Counter(p)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best(golds: Sequence[str], pred: str) -> tuple[float, float]:
    """(EM, F1), each the maximum over the gold answers; no gold answers = a no-answer question."""
    if not golds:
        return float(not pred), float(not pred)
    return max(exact(g, pred) for g in golds), max(f1(g, pred) for g in golds)


def answer_hit(golds: Sequence[str], pred: str) -> bool:
    """Lenient correctness of a direct answer: F1 >= 0.5 with some gold answer, or some gold
    answer contained in it (after normalisation, on token boundaries)."""
    if not pred:
        return False
    if best(golds, pred)[1] >= 0.5:
        return True
    padded = f" {normalize_answer(pred)} "
    return any(normalize_answer(g) and f" {normalize_answer(g)} " in padded for g in golds)
