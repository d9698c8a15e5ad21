"""Grounded-answer metrics: pure functions of a ``GoldItem`` and the system's ``Outcome``.

Every function documents what it measures and where the idea comes from. Rates return
``None`` when undefined (no item in the denominator) rather than a misleading 0 or 1.
Gold evidence and ``must`` facts come from ``eval/data/gold.jsonl``; nothing here knows them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from eval import squad
from eval.dataset import GoldItem
from eval.matching import fact_present, facts_present, normalise
from eval.records import Outcome

Pair = tuple[GoldItem, Outcome]


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


# -- answers -----------------------------------------------------------------------------
def fact_hits(item: GoldItem, outcome: Outcome) -> list[bool]:
    """For each gold ``must`` fact, whether the answer text states it (any alternative).

    The key-fact ("nugget") view of answer correctness, as in the TREC QA nugget evaluation
    (Voorhees, 2003, "Overview of the TREC 2003 Question Answering Track"), with nuggets
    matched lexically (``eval.matching``) instead of by assessors.
    """
    return facts_present(outcome.text, item.must)


def answer_correct(item: GoldItem, outcome: Outcome) -> bool:
    """Lenient answer correctness (``accuracy``): the facts may be anywhere in the answer text.

    Kept next to ``answer_correct_strict`` for comparison with earlier reports: it credits a
    wrong direct answer whose quoted sentence holds the fact. Answerable item: correct iff the
    answer is not refused and states *every* ``must`` fact
    (strict nugget recall = 1; Voorhees 2003). Unanswerable item: correct iff refused, the
    "abstain when unanswerable" criterion of SQuAD 2.0 (Rajpurkar et al., 2018, "Know What You
    Don't Know"). A crashed backend (``outcome.error``) is never correct.
    """
    if outcome.error:
        return False
    if not item.answerable:
        return outcome.refused
    return not outcome.refused and all(fact_hits(item, outcome))


def lead(text: str) -> str:
    """The part of an answer before its quoted sentences: the text before the first blank
    line when there is one (the answerer writes ``lead``, a blank line, then the sentences)."""
    head, sep, _ = text.partition("\n\n")
    return head.strip() if sep and head.strip() else text.strip()


def direct_answer(outcome: Outcome) -> str:
    """What a user reads as *the* answer: ``short_answer`` when given, else the lead."""
    return outcome.short_answer.strip() or lead(outcome.text)


_YES = re.compile(r"(?<!\w)yes(?!\w)")
_NO = re.compile(r"(?<!\w)no(?!\w)")


def states_polarity(text: str, polarity: str) -> bool:
    """``text`` says ``yes`` (or ``no``) as a word and not the opposite one."""
    t = normalise(text)
    said_yes, said_no = bool(_YES.search(t)), bool(_NO.search(t))
    return said_yes and not said_no if polarity == "yes" else said_no and not said_yes


def answer_correct_strict(item: GoldItem, outcome: Outcome) -> bool:
    """Strict correctness: the *direct* answer (``direct_answer``) is judged on its own.

    A wrong short answer followed by a right quoted sentence is wrong. Answerable item: not
    refused and the direct answer states every ``must`` fact; a yes/no item must say the
    right ``yes``/``no``; a SQuAD item must match a gold answer (``squad.answer_hit``: F1 >= 0.5
    or a gold answer contained). Unanswerable item: refused. A crash is never correct.
    """
    if outcome.error:
        return False
    if not item.answerable:
        return outcome.refused
    if outcome.refused:
        return False
    direct = direct_answer(outcome)
    if item.benchmark == "squad2":
        return squad.answer_hit([a for fact in item.must for a in fact], direct)
    if item.category == "yes_no":
        return states_polarity(direct, item.polarity)
    return all(fact_present(direct, alts) for alts in item.must)


def squad_scores(item: GoldItem, outcome: Outcome) -> tuple[float, float] | None:
    """Official SQuAD 2.0 (EM, F1) of the direct answer (a refusal predicts no answer);
    ``None`` for items that are not from SQuAD."""
    if item.benchmark != "squad2":
        return None
    pred = "" if outcome.refused or outcome.error else direct_answer(outcome)
    golds = [a for fact in item.must for a in fact] if item.answerable else []
    return squad.best(golds, pred)


def fact_recall(item: GoldItem, outcome: Outcome) -> float | None:
    """Fraction of ``must`` facts stated (partial credit; Voorhees 2003 nugget recall).

    ``None`` for unanswerable items. A refused or crashed answer states no fact.
    """
    if not item.answerable:
        return None
    if outcome.refused or outcome.error:
        return 0.0
    hits = fact_hits(item, outcome)
    return sum(hits) / len(hits)


# -- refusals ----------------------------------------------------------------------------
def refusal_correct(item: GoldItem, outcome: Outcome) -> bool:
    """Refusal accuracy for one item: ``refused == not answerable`` (SQuAD 2.0's
    has-answer / no-answer decision, Rajpurkar et al., 2018). A crash is never correct."""
    return not outcome.error and outcome.refused == (not item.answerable)


def false_refusal_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of *answerable* items the system refused (over-abstention; Rajpurkar et al., 2018,
    report the same error as no-answer on has-answer questions). Lower is better."""
    return _mean(float(o.refused) for it, o in pairs if it.answerable and not o.error)


def false_answer_rate(pairs: Sequence[Pair]) -> float | None:
    """Share of *unanswerable* items the system answered anyway (the unsupported-answer /
    hallucination side of SQuAD 2.0's no-answer decision). Lower is better."""
    return _mean(float(not o.refused) for it, o in pairs if not it.answerable and not o.error)


# -- citations ---------------------------------------------------------------------------
def citation_supports(item: GoldItem, outcome: Outcome) -> bool:
    """Citation recall for one answered, answerable item (ALCE-style; Gao et al., 2023,
    "Enabling Large Language Models to Generate Text with Citations").

    ALCE counts a statement as recalled when the concatenation of its citations entails it.
    Entailment is approximated against gold: the citations support the answer when the cited
    sentences *jointly contain every* ``must`` fact, or — for facts no sentence states
    verbatim (sums, differences, a name resolved by coreference) — when the citations include
    *every* gold evidence sentence.
    """
    cited = list(outcome.citations)
    if not cited:
        return False
    joined = "\n".join(c.text for c in cited)
    if all(fact_present(joined, alts) for alts in item.must):
        return True
    return item.evidence_keys <= {c.key for c in cited}


def citation_needed(item: GoldItem, outcome: Outcome) -> list[bool]:
    """For each citation, whether it is needed (ALCE citation precision; Gao et al., 2023).

    ALCE calls a citation irrelevant when it alone does not support the statement and
    removing it does not hurt. Adapted to gold: a citation is needed when it is a gold
    evidence sentence or it contains at least one ``must`` fact.
    """
    gold = item.evidence_keys
    return [c.key in gold or any(fact_present(c.text, alts) for alts in item.must)
            for c in outcome.citations]


def _answered(pairs: Sequence[Pair]) -> list[Pair]:
    return [(it, o) for it, o in pairs if it.answerable and not o.refused and not o.error]


def citation_recall(pairs: Sequence[Pair]) -> float | None:
    """Share of answered answerable items whose citations support the answer
    (``citation_supports``). Refusals are excluded (they are measured by the false-refusal
    rate), so this isolates grounding quality from abstention."""
    return _mean(float(citation_supports(it, o)) for it, o in _answered(pairs))


def citation_precision(pairs: Sequence[Pair]) -> float | None:
    """Share of all citations on answered answerable items that are needed
    (``citation_needed``), micro-averaged over citations as in ALCE (Gao et al., 2023)."""
    flags = [f for it, o in _answered(pairs) for f in citation_needed(it, o)]
    return _mean(float(f) for f in flags)


# -- retrieval ---------------------------------------------------------------------------
def recall_at_k(item: GoldItem, outcome: Outcome, k: int) -> float | None:
    """Recall@k of gold evidence in the retrieval ranking: |gold ∩ top-k| / |gold|
    (Manning, Raghavan & Schütze, 2008, "Introduction to Information Retrieval", ch. 8).
    ``None`` for items without gold evidence."""
    gold = item.evidence_keys
    if not gold:
        return None
    top = {r.key for r in outcome.retrieved[:k]}
    return len(gold & top) / len(gold)


def reciprocal_rank(item: GoldItem, outcome: Outcome) -> float | None:
    """1 / rank of the first gold evidence sentence in the retrieval ranking, 0 if absent; its
    mean is MRR (Voorhees, 1999, "The TREC-8 Question Answering Track Report")."""
    gold = item.evidence_keys
    if not gold:
        return None
    for rank, r in enumerate(outcome.retrieved, start=1):
        if r.key in gold:
            return 1.0 / rank
    return 0.0


# -- latency -----------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks
    (Hyndman & Fan, 1996, definition 7 — numpy's default). ``None`` for no values."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q={q} must be within [0, 100]")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
