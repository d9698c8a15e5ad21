"""The fitted decision model: three linear models and the thresholds chosen with them.

``LinearModel.predict`` turns feature rows into probabilities with NumPy alone (no scikit-learn
on the question path). ``DecisionModel`` holds the candidate model (P(a sentence holds the
answer)), the span model (P(an option of that sentence is the direct answer)), the answer model
(P(the answer is right), calibrated on held-out articles) and the two cut-offs that turn that
probability into what the user sees (``Band``). Everything is read from one JSON file written
by ``train/decision/fit.py``; its feature names must match the code's (``features``,
``spans``), or loading fails with a message that says how to rebuild it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from assistant.answering.decision.features import ANSWER_FEATURES, CANDIDATE_FEATURES
from assistant.answering.decision.spans import SPAN_FEATURES

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "models" / "decision.json"
FORMAT = 2


class DecisionModelError(ValueError):
    """The decision model file is missing, unreadable or fitted for other features."""


class Band(StrEnum):
    """How an answer is shown, by its P(right): asserted, hedged ("Probably ..."), or refused."""

    CONFIDENT = "confident"
    PROBABLE = "probable"
    UNSURE = "unsure"  # refused, with the best candidates offered as related passages


@dataclass(frozen=True)
class LinearModel:
    """A linear score over standardised features, z = ((x - mean) / scale) . w + b, turned into
    probabilities by its ``link``: ``logistic`` (each row on its own: sigmoid(z)) or ``softmax``
    (the rows are one question's candidates, competing: exp(z) / sum exp(z) — a conditional
    logit, whose ``bias`` cancels out)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    link: str = "logistic"

    def predict(self, rows: list[list[float]]) -> np.ndarray:
        """P per row (an empty array for no rows)."""
        if not rows:
            return np.zeros(0)
        x = (np.asarray(rows, dtype=np.float64) - np.asarray(self.mean)) / np.asarray(self.scale)
        z = x @ np.asarray(self.weights) + self.bias
        if self.link == "softmax":
            e = np.exp(z - z.max())
            return e / e.sum()
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    @classmethod
    def from_json(cls, raw: dict[str, object], expected: tuple[str, ...], what: str) -> LinearModel:
        names = tuple(str(n) for n in raw["names"])  # type: ignore[attr-defined]
        if names != expected:
            missing = sorted(set(expected) - set(names))
            extra = sorted(set(names) - set(expected))
            raise DecisionModelError(
                f"the {what} model was fitted for other features (missing {missing}, extra {extra}): "
                "rebuild it with `make decision-model`"
            )
        model = cls(
            names,
            tuple(float(v) for v in raw["mean"]),  # type: ignore[attr-defined]
            tuple(float(v) if float(v) > 0 else 1.0 for v in raw["scale"]),  # type: ignore[attr-defined]
            tuple(float(v) for v in raw["weights"]),  # type: ignore[attr-defined]
            float(raw["bias"]),  # type: ignore[arg-type]
            str(raw.get("link", "logistic")),
        )
        if model.link not in ("logistic", "softmax"):
            raise DecisionModelError(
                f"the {what} model's link {model.link!r} is neither logistic nor softmax"
            )
        if not len(model.mean) == len(model.scale) == len(model.weights) == len(names):
            raise DecisionModelError(f"the {what} model's arrays differ in length")
        if not all(math.isfinite(v) for v in (*model.mean, *model.scale, *model.weights, model.bias)):
            raise DecisionModelError(f"the {what} model holds a non-finite number")
        return model

    def to_json(self) -> dict[str, object]:
        return {
            "names": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
            "link": self.link,
        }


@dataclass(frozen=True)
class DecisionModel:
    """What the answerer decides with: ``candidate`` ranks sentences, ``span`` the names or
    figures of the chosen sentence, ``answer`` gives P(right); below ``answer_threshold`` it
    refuses, from ``confident_threshold`` on it asserts, in between it hedges. A second sentence
    is cited only at ``cite_threshold`` or above."""

    candidate: LinearModel
    span: LinearModel
    answer: LinearModel
    answer_threshold: float
    confident_threshold: float
    cite_threshold: float
    version: str = ""

    def band(self, p_right: float) -> Band:
        if p_right >= self.confident_threshold:
            return Band.CONFIDENT
        if p_right >= self.answer_threshold:
            return Band.PROBABLE
        return Band.UNSURE

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "version": self.version,
            "candidate": self.candidate.to_json(),
            "span": self.span.to_json(),
            "answer": self.answer.to_json(),
            "answer_threshold": self.answer_threshold,
            "confident_threshold": self.confident_threshold,
            "cite_threshold": self.cite_threshold,
        }


def load_decision_model(path: Path | str | None = None) -> DecisionModel:
    """Read the model at ``path`` (default: the shipped ``assistant/models/decision.json``)."""
    where = Path(path) if path else DEFAULT_PATH
    try:
        raw = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DecisionModelError(
            f"no decision model at {where}: rebuild it with `make decision-model`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecisionModelError(
            f"the decision model {where} is unreadable ({exc}): rebuild it with `make decision-model`"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DecisionModelError(
            f"the decision model {where} is not format {FORMAT}: rebuild it with `make decision-model`"
        )
    try:
        return DecisionModel(
            LinearModel.from_json(raw["candidate"], CANDIDATE_FEATURES, "candidate"),
            LinearModel.from_json(raw["span"], SPAN_FEATURES, "span"),
            LinearModel.from_json(raw["answer"], ANSWER_FEATURES, "answer"),
            float(raw["answer_threshold"]),
            float(raw["confident_threshold"]),
            float(raw["cite_threshold"]),
            str(raw.get("version", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, DecisionModelError):
            raise
        raise DecisionModelError(
            f"the decision model {where} is incomplete ({exc!r}): rebuild it with `make decision-model`"
        ) from None


def bootstrap_model() -> DecisionModel:
    """An unfitted model that ranks by retrieval alone and always answers: what the training
    data is first collected with (its candidate features do not depend on the weights)."""
    cand = _prior(CANDIDATE_FEATURES, {"rank_inv": 5.0}, "logistic", bias=-2.0)
    # people, then places, dates, organisations; the figure in the question's clause; the nearest
    span = _prior(
        SPAN_FEATURES,
        {
            "person": 4.0,
            "place": 3.0,
            "date": 2.0,
            "org": 1.0,
            "clause": 2.0,
            "unit_head": 4.0,
            "money": 1.0,
            "near_words": -1.0,
        },
        "softmax",
    )
    ans = _prior(ANSWER_FEATURES, {}, "logistic")
    return DecisionModel(
        cand,
        span,
        ans,
        answer_threshold=0.0,
        confident_threshold=1.1,
        cite_threshold=1.1,
        version="bootstrap",
    )


def _prior(names: tuple[str, ...], weights: dict[str, float], link: str, bias: float = 0.0) -> LinearModel:
    """An unfitted linear model over raw features: ``weights`` by name, 0 for the rest."""
    n = len(names)
    w = tuple(weights.get(name, 0.0) for name in names)
    return LinearModel(names, (0.0,) * n, (1.0,) * n, w, bias, link)
