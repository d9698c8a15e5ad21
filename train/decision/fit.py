"""Fit the three linear models and choose the thresholds, validated on held-out articles.

Why linear models (two conditional logits over a question's candidates and a sentence's
options, one logistic regression for P(right)): a few thousand questions, a few dozen
features, and a decision a developer must be able to read — one weight per named feature,
probabilities that are calibrated by construction (checked in the card's reliability table).
Out-of-fold predictions (``folds``, grouped by document: a question is never scored by a
model that saw its article) give every validation figure and the thresholds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from assistant.answering.decision import (
    ANSWER_FEATURES,
    CANDIDATE_FEATURES,
    SPAN_FEATURES,
    DecisionModel,
    LinearModel,
)
from train.decision.collect import Record

C = 1.0  # inverse L2 strength on standardised features (scikit-learn's default)
# Questions about the kind of text the product is for (news, the article sets) weigh as much in
# all as the SQuAD ones: SQuAD 2.0 is half unanswerable by design, and fitted on it alone the
# answer model refuses most questions users ask about an article.
PRODUCT_SETS = (
    "eval:gold",
    "eval:article_new",
    "eval:dev_article",
    "eval:dev_bridge",
    "eval:dev_third",
    "eval:news",
)
FOLDS = 5
# sets over the same document are one group when validating: a question is never scored by a
# model fitted on questions about its article
SAME_DOCUMENT = {
    "eval:gold": "eval:article",
    "eval:article_new": "eval:article",
    "eval:dev_article": "eval:article",
}
# answers shown as confident must be right this often, out of fold, on the product's kind of text
# (on SQuAD's adversarial questions no threshold reaches it: the card shows both)
CONFIDENT_PRECISION = 0.85
CONFIDENT_MIN = 20  # ... over at least this many answers
SMOOTH = 3  # grid steps (of 0.01) either side averaged when choosing the answer threshold
CITE_THRESHOLD = 0.5  # before the candidate model is fitted (pass 2); then ``choose_cite_threshold``


@dataclass(frozen=True)
class Fitted:
    """A fitted model and its out-of-fold probabilities (one per row)."""

    model: LinearModel
    oof: np.ndarray


def source(group: str) -> str:
    """``product`` for the sets about articles like the ones users add, ``squad`` for the rest."""
    return "product" if group in PRODUCT_SETS else "squad"


def folds(groups: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Train/validation row indices, ``FOLDS`` folds grouped by document (``SAME_DOCUMENT``)."""
    docs = [SAME_DOCUMENT.get(g, g) for g in groups]
    rows = np.arange(len(docs))
    yield from GroupKFold(n_splits=min(FOLDS, len(set(docs)))).split(rows, groups=docs)


def weights(groups: Sequence[str]) -> np.ndarray:
    """Per row: each source (``source``) weighs half of the total."""
    src = [source(g) for g in groups]
    counts = {s: src.count(s) for s in set(src)}
    return np.asarray([len(src) / (len(counts) * counts[s]) for s in src])


def answer_weights(records: Sequence[Record]) -> np.ndarray:
    """``weights``, and within SQuAD the unanswerable questions weigh as much, in all, as
    unanswerable questions are common in the product sets (about a quarter; SQuAD 2.0 makes half
    of its questions unanswerable by design). Why: P(right) and the answer threshold are for the
    questions users ask about an article; fitted at SQuAD's half, the model refused a fifth of the
    answerable news questions to catch SQuAD's adversarial ones."""
    w = weights([r.group for r in records])
    squad = np.asarray([source(r.group) == "squad" for r in records])
    unanswerable = np.asarray([not r.answerable for r in records])
    product = ~squad
    if not product.any() or not (squad & unanswerable).any() or not (squad & ~unanswerable).any():
        return w
    share = float(w[product & unanswerable].sum() / w[product].sum())
    total = w[squad].sum()
    w[squad & unanswerable] *= share * total / w[squad & unanswerable].sum()
    w[squad & ~unanswerable] *= (1 - share) * total / w[squad & ~unanswerable].sum()
    return w


def fit_linear(
    x: np.ndarray, y: np.ndarray, groups: Sequence[str], names: tuple[str, ...], w: np.ndarray | None = None
) -> Fitted:
    """Standardise, fit on everything (rows weighted by ``w``, default ``weights``), and predict
    each group's rows with a model fitted without it."""
    w = weights(groups) if w is None else w
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    oof = np.zeros(len(y))
    for tr, te in folds(groups):
        lr = LogisticRegression(C=C, max_iter=2000).fit(z[tr], y[tr], sample_weight=w[tr])
        oof[te] = lr.predict_proba(z[te])[:, 1]
    lr = LogisticRegression(C=C, max_iter=2000).fit(z, y, sample_weight=w)
    model = LinearModel(
        names,
        tuple(mean.tolist()),
        tuple(scale.tolist()),
        tuple(lr.coef_[0].tolist()),
        float(lr.intercept_[0]),
    )
    return Fitted(model, oof)


def fit_candidates(records: Sequence[Record]) -> Fitted:
    """Which candidate holds the gold answer: a conditional logit (softmax over each question's
    candidates) fitted on the answerable questions whose candidates hold it, each source weighing
    half; out-of-fold probabilities for every candidate of every question (``GroupKFold``).

    Why listwise: the choice is among one question's candidates; a per-sentence logistic model
    spends its weights on telling answerable questions from unanswerable ones instead (out of
    fold it put the gold sentence first less often: the card of an earlier fit)."""
    return fit_listwise(
        records,
        [r.candidate_features for r in records],
        [r.candidate_labels for r in records],
        CANDIDATE_FEATURES,
    )


def fit_spans(records: Sequence[Record]) -> Fitted:
    """Which name, place, date or figure of the sentence answered from is the direct answer: a
    conditional logit over each question's options, fitted on the questions where one option
    states the gold answer (listwise, as ``fit_candidates``)."""
    return fit_listwise(
        records, [r.span_features for r in records], [r.span_labels for r in records], SPAN_FEATURES
    )


def fit_listwise(
    records: Sequence[Record],
    features: Sequence[Sequence[Sequence[float]]],
    labels: Sequence[Sequence[int]],
    names: tuple[str, ...],
) -> Fitted:
    """A conditional logit over per-question option lists (``features[i]``, ``labels[i]``: the
    options of ``records[i]``), fitted on the answerable questions with a positive option, each
    source weighing half; out-of-fold probabilities for every option of every question."""
    dim = len(names)
    flat = [row for rows in features for row in rows]
    rows = np.asarray(flat, float).reshape(-1, dim)
    mean, scale = (rows.mean(axis=0), rows.std(axis=0)) if len(rows) else (np.zeros(dim), np.ones(dim))
    scale[scale == 0] = 1.0
    data = [
        ((np.asarray(f, float).reshape(-1, dim) - mean) / scale, np.asarray(y, float))
        for f, y in zip(features, labels, strict=True)
    ]
    usable = {i for i, r in enumerate(records) if r.answerable and any(labels[i])}
    w_q = weights([r.group for r in records])
    groups = [r.group for r in records]
    oof = [np.zeros(len(y)) for y in labels]
    for tr, te in folds(groups):
        w = _conditional_logit(data, [i for i in tr if i in usable], w_q, dim)
        for i in te:
            oof[i] = _softmax(data[i][0] @ w) if len(data[i][1]) else oof[i]
    w = _conditional_logit(data, sorted(usable), w_q, dim)
    model = LinearModel(names, tuple(mean.tolist()), tuple(scale.tolist()), tuple(w.tolist()), 0.0, "softmax")
    return Fitted(model, np.concatenate(oof) if oof else np.zeros(0))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _conditional_logit(
    data: Sequence[tuple[np.ndarray, np.ndarray]],
    idx: Sequence[int],
    w_q: np.ndarray,
    dim: int,
    l2: float = 1.0,
) -> np.ndarray:
    """Weights maximising sum_q w_q log P(a gold option | question q) - l2 |w|^2 / 2 (L-BFGS)."""
    from scipy.optimize import minimize

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * float(w @ w) / 2, l2 * w
        for i in idx:
            x, y = data[i]
            p = _softmax(x @ w)
            hit = float(p @ y)
            total -= w_q[i] * np.log(hit + 1e-12)
            grad = grad + w_q[i] * (p @ x - (p * y) @ x / (hit + 1e-12))
        return total, grad

    return np.asarray(minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B").x)


def fit_answers(records: Sequence[Record]) -> Fitted:
    """P(the direct answer is strictly right), over the questions that reached the decision
    (rows weighted by ``answer_weights``)."""
    used = [r for r in records if r.answer_features]
    x = np.asarray([r.answer_features for r in used], float)
    y = np.asarray([int(r.right) for r in used])
    return fit_linear(x, y, [r.group for r in used], ANSWER_FEATURES, answer_weights(used))


def per_question(
    records: Sequence[Record], cand_p: np.ndarray, spans: bool = False
) -> Iterator[tuple[Record, np.ndarray]]:
    """Each record with its own candidates' slice of ``cand_p`` (one value per candidate, in
    record order, as ``fit_candidates`` gives them; ``spans``: per direct-answer option, as
    ``fit_spans`` gives them)."""
    at = 0
    for r in records:
        k = len(r.span_labels if spans else r.candidate_labels)
        yield r, cand_p[at : at + k]
        at += k


def decided_p(records: Sequence[Record], p: np.ndarray) -> dict[str, float]:
    """Item id -> P(right), for the records that reached the decision (``p`` is in their order)."""
    return dict(zip([r.item_id for r in records if r.answer_features], p.tolist(), strict=True))


def strict_hit(r: Record, p_of: dict[str, float], t: float) -> bool:
    """Is ``r`` strictly right when answers with P(right) >= ``t`` are given and the rest
    refused? A question a rule decided first counts as it was decided (``right``)."""
    if not r.answer_features:
        return r.right
    return r.right if p_of[r.item_id] >= t else not r.answerable


def accuracy_at(records: Sequence[Record], p: np.ndarray, t: float) -> float:
    """Strict accuracy (rows weighted by ``answer_weights``) at answer threshold ``t`` (``strict_hit``)."""
    w = answer_weights(records)
    p_of = decided_p(records, p)
    return float(np.dot(w, [strict_hit(r, p_of, t) for r in records]) / w.sum())


def choose_thresholds(records: Sequence[Record], p: np.ndarray) -> tuple[float, float]:
    """The answer threshold that maximises (weighted) strict accuracy out of fold (smoothed over
    ``SMOOTH`` grid steps either side), and the
    lowest threshold at which the product-like questions' answers are right
    ``CONFIDENT_PRECISION`` of the time (over ``CONFIDENT_MIN`` answers at least)."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    acc = np.asarray([accuracy_at(records, p, t) for t in grid])
    # the accuracy curve is flat near its top (answering a few more answerable questions costs as
    # many unanswerable ones): a moving average keeps one lucky question from moving the threshold
    smooth = np.convolve(
        np.pad(acc, SMOOTH, mode="edge"), np.ones(2 * SMOOTH + 1) / (2 * SMOOTH + 1), "valid"
    )
    answer_t = float(grid[int(np.argmax(smooth))])
    used = [r for r in records if r.answer_features]
    product = np.asarray([source(r.group) == "product" for r in used])
    right = np.asarray([r.right for r in used])[product]
    p_product = p[product]
    confident_t = 0.99
    for t in grid:
        sel = p_product >= t
        if sel.sum() >= CONFIDENT_MIN and right[sel].mean() >= CONFIDENT_PRECISION:
            confident_t = float(t)
            break
    return answer_t, max(confident_t, answer_t)


def choose_cite_threshold(records: Sequence[Record], cand_oof: np.ndarray) -> float:
    """The lowest P at which a candidate other than the most likely one holds the gold answer
    more often than not, out of fold (over 20 such candidates at least): a second sentence is
    cited from there on."""
    seconds: list[tuple[float, int]] = []
    for r, p in per_question(records, cand_oof):
        if r.answerable and len(p) > 1:
            top = int(np.argmax(p))
            seconds += [(float(p[j]), r.candidate_labels[j]) for j in range(len(p)) if j != top]
    for t in np.round(np.arange(0.05, 0.951, 0.01), 2):
        hits = [lab for p, lab in seconds if p >= t]
        if len(hits) >= 20 and np.mean(hits) >= 0.5:
            return float(t)
    return CITE_THRESHOLD


def build_model(
    cands: Fitted, spans: Fitted, answers: Fitted, records: Sequence[Record], version: str
) -> DecisionModel:
    answer_t, confident_t = choose_thresholds(records, answers.oof)
    cite_t = choose_cite_threshold(records, cands.oof)
    return DecisionModel(cands.model, spans.model, answers.model, answer_t, confident_t, cite_t, version)
