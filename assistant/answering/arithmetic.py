"""Arithmetic over figures the documents state: a difference, sum, ratio, share or remainder.

Why its own module: computing is one decision (``compute`` answers or declines) with its own
way of pairing each name of the question with the figure that measures it; the answering
stages only call it (``assistant.answering.answer._compute``). Costs are in ``assistant.answering.policy``.
"""

from __future__ import annotations

import re

from assistant.answering.draft import Draft
from assistant.answering.extract import clause_terms, figure_answer
from assistant.answering.policy import AnswerPolicy
from assistant.answering.support import Evidence, SentenceContext
from assistant.core.types import Sentence
from assistant.language.figures import (
    PERCENT,
    Figure,
    asks_for_money,
    find_figures,
    format_value,
    is_money,
    quantities,
)
from assistant.language.question import Question, entity_keys
from assistant.language.text import STOPWORDS, fold, stem


def _counts(f: Figure, s: Sentence) -> str:
    """The stem of what ``f`` counts: its unit, else the word right after it ("240,000
    residents"); '' when neither says."""
    if f.unit:
        return "%" if f.unit in PERCENT else stem(fold(f.unit))
    after = re.match(r"\s+([A-Za-z]+)", s.text[f.end :])
    word = fold(after.group(1)) if after else ""
    return stem(word) if word and word not in STOPWORDS else ""


def _commensurable(f: Figure, s: Sentence, g: Figure, t: Sentence) -> bool:
    """Can ``f`` (of ``s``) and ``g`` (of ``t``) be added or compared? Both money or neither,
    and they count the same thing when both say what: 30 percent plus 350,000 people, or
    240,000 residents against 80 schools, is no figure at all."""
    a, b = _counts(f, s), _counts(g, t)
    money = is_money(f, s)
    if money != is_money(g, t) or (a == "%") != (b == "%"):
        return False
    return money or not a or not b or a == b


def _figure_candidates(
    info: Question, keys: tuple[str, ...], cands: list[Evidence], p: AnswerPolicy
) -> list[tuple[float, Figure, Sentence]]:
    """(cost, figure, sentence) for the figures that follow a mention of the entity ``keys``."""
    wants_money = asks_for_money(info.terms) or info.kind == "how_much"
    out: list[tuple[float, Figure, Sentence]] = []
    for rank, ev in enumerate(cands[:6]):
        s = ev.sentence
        toks = [(m.start(), m.group(0)) for m in re.finditer(r"[\w’']+", s.text)]
        mentions = []
        for t, (pos, tok) in enumerate(toks):
            pair = f"{tok} {toks[t + 1][1]}" if t + 1 < len(toks) else tok
            if any(k in entity_keys(tok) or k in entity_keys(pair) for k in keys):
                mentions.append(pos)
        if not mentions:
            continue
        for f in quantities(s):
            cost = min(
                (f.start - pos)
                if f.start >= pos
                else p.figure_before_factor * (pos - f.start) + p.figure_before_offset
                for pos in mentions
            )
            cost += rank * p.figure_rank_cost
            if wants_money != is_money(f, s):
                cost += p.figure_kind_cost
            out.append((cost, f, s))
    return sorted(out, key=lambda x: x[0])


def _pick_operands(
    info: Question, cands: list[Evidence], p: AnswerPolicy
) -> list[tuple[str, Figure, Sentence]]:
    """The two (entity, figure) pairs the question compares: cheapest first, distinct figures."""
    options = []
    for name, keys in zip(info.entities, info.entity_keys, strict=True):
        for cost, f, s in _figure_candidates(info, keys, cands, p)[:3]:
            options.append((cost, name, f, s))
    options.sort(key=lambda o: o[0])
    chosen: list[tuple[str, Figure, Sentence]] = []
    for _cost, name, f, s in options:
        if any(n == name or (g.start == f.start and t.key == s.key) for n, g, t in chosen):
            continue
        chosen.append((name, f, s))
        if len(chosen) == 2:
            break
    if len(chosen) == 1:
        other = _second_operand(info, chosen[0])
        if other is not None:
            chosen.append(other)
    # keep the question's order ("how much more did A give than B")
    order = {n: info.folded.find(fold(n)) for n, _f, _s in chosen}
    return sorted(chosen, key=lambda c: order.get(c[0], 0))


def _second_operand(
    info: Question, first: tuple[str, Figure, Sentence]
) -> tuple[str, Figure, Sentence] | None:
    """The other figure of a comparison when the question names it without a capital letter
    ("than the national government"): a figure of the same kind in the same sentence that
    follows a noun phrase the question also uses."""
    name, f, s = first
    phrases = info.the_phrases
    text = fold(s.text)
    best: tuple[int, str, Figure] | None = None
    for g in find_figures(s.text):
        if g.start == f.start or g.is_year or (bool(g.scale_word) != bool(f.scale_word)):
            continue
        for ph in phrases:
            if ph in fold(name) or not ph.strip():
                continue
            at = text.rfind(ph, 0, g.start)
            if at >= 0 and (best is None or g.start - at < best[0]):
                best = (g.start - at, ph, g)
    return (best[1], best[2], s) if best else None


def _remainder(info: Question, cands: list[Evidence], draft: Draft) -> bool:
    """ "How much of the 90 million is not paid by X?" -> 90 million minus what X pays:
    the question's figure (found in the documents) minus the part the best passage states."""
    wholes = [
        (c, f)
        for c in cands[:6]
        for f in quantities(c.sentence)
        if any(abs(f.value - n) < 1e-6 for n in info.numbers)
    ]
    if not wholes:
        return False
    whole_ev, whole = wholes[0]
    for c in cands[:6]:
        part = figure_answer(info, c.sentence)
        if part is None or part.value >= whole.value or bool(part.scale_word) != bool(whole.scale_word):
            continue
        if clause_terms(c.sentence, part, info, words_only=True) == 0:
            continue  # a part that belongs to something else ("not from tolls" is not 450 - the EU's 150)
        m1, m2 = draft.cite(whole_ev.sentence, 1.0), draft.cite(c.sentence, 1.0)
        value = format_value(whole.value - part.value, [whole, part])
        draft.short = value
        draft.text = f"{value[0].upper()}{value[1:]}: {whole.text} [{m1}] minus {part.text} [{m2}] = {value}."
        return True
    return False


def compute(info: Question, ctx: SentenceContext, cands: list[Evidence], draft: Draft) -> bool:
    """Compute a difference, sum, ratio, share or remainder of figures the documents state;
    True if done."""
    if info.operation == "remainder":
        return _remainder(info, cands, draft)
    found = _pick_operands(info, cands, ctx.policy)
    if info.operation == "share" and len(found) >= 1:
        name, f, s = found[0]
        if any(g.unit in PERCENT for t in (s, cands[0].sentence) for g in quantities(t)):
            return False  # the documents state a share: the sentence answers, nothing to work out
        peers = [
            g
            for g in find_figures(s.text)
            if not g.is_year and g.scale_word == f.scale_word and _commensurable(f, s, g, s)
        ]
        total = sum(g.value for g in peers)
        if len(peers) < 2 or total <= 0:
            return False
        n = draft.cite(s, 1.0)
        share = 100 * f.value / total
        parts = " + ".join(g.text for g in peers)
        draft.short = f"about {share:.0f}%"
        draft.text = (
            f"About {share:.0f}%: {name} accounts for {f.text} of the {format_value(total, peers)} "
            f"stated in total ({f.text} / ({parts})) [{n}]."
        )
        return True
    if len(found) < 2 or not _commensurable(found[0][1], found[0][2], found[1][1], found[1][2]):
        return False
    (n1, f1, s1), (n2, f2, s2) = found[0], found[1]
    m1, m2 = draft.cite(s1, 1.0), draft.cite(s2, 1.0)
    figs = [f1, f2]
    if info.operation == "difference":
        (bn, bf, bm), (sn, sf, sm) = (
            ((n1, f1, m1), (n2, f2, m2)) if f1.value >= f2.value else ((n2, f2, m2), (n1, f1, m1))
        )
        value = format_value(bf.value - sf.value, figs)
        draft.short = value
        draft.text = f"{value} more for {bn}: {bn} {bf.text} [{bm}] minus {sn} {sf.text} [{sm}] = {value}."
    elif info.operation == "sum":
        total = f1.value + f2.value
        value = format_value(total, figs)
        draft.short = value
        draft.text = f"{value} in total: {n1} {f1.text} [{m1}] plus {n2} {f2.text} [{m2}] = {value}."
    elif info.operation == "ratio":
        ratio = f1.value / f2.value if f2.value else 0.0
        draft.short = f"about {ratio:.2f} to 1"
        draft.text = (
            f"About {ratio:.2f} to 1: {n1} {f1.text} [{m1}] against {n2} {f2.text} [{m2}] "
            f"({n1} is about {100 * (ratio - 1):.0f}% more)."
            if ratio >= 1
            else f"About {ratio:.2f} to 1: {n1} {f1.text} [{m1}] against {n2} {f2.text} [{m2}]."
        )
    else:  # share of the first in the two
        share = 100 * f1.value / (f1.value + f2.value)
        draft.short = f"about {share:.0f}%"
        draft.text = f"About {share:.0f}%: {n1} {f1.text} [{m1}] out of {f1.text} + {f2.text} [{m2}]."
    return True
