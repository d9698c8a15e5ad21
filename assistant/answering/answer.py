"""The default answerer: extractive, grounded, and willing to say "the documents don't say".

The answer is an ordered list of small stages (``STAGES``) over one ``State``: validate ->
follow-up ("what next?") -> retrieve, then rank the candidates by the decision model's
P(holds the answer) (``assistant.answering.decision``) -> questions about the documents -> premises and
absent names -> arithmetic (``assistant.answering.arithmetic``) -> absent conditions and wrong passages
(``assistant.answering.premises``) -> the direct answer by question kind (``SHORT_ANSWERS``) -> decide:
the decision model's P(right) says answer, answer with "Probably", or refuse -> compose with
[n] markers and verify every citation. Each stage returns ``None`` (go on) or an ``Answer``
whose ``reason`` (``types.Reason``) says why; a DEBUG log line names the deciding stage and
the top candidates' probabilities, and ``Answer.trace`` carries the decision's features.
Citations are the minimal set of sentences that carry the answer, each exact to its document.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.answering.arithmetic import compute
from assistant.answering.cite import citation_for, renumber, verify
from assistant.answering.decision import (
    Band,
    DecisionModel,
    SpanOption,
    answer_features,
    candidate_features,
    span_features,
)
from assistant.answering.draft import REFUSAL_NOT_STATED, Draft, join_names, neighbour
from assistant.answering.extract import (
    clean_entity,
    entity_answers,
    entity_options,
    figure_options,
    readable,
)
from assistant.answering.policy import AnswerPolicy
from assistant.answering.premises import (
    absent_ask,
    polarity_differs,
    premise_problem,
    presupposition_correction,
)
from assistant.answering.support import (
    ANAPHORIC_START,
    Evidence,
    SentenceContext,
    asks_for_speaker,
    score_evidence,
    speaker_answer,
)
from assistant.core.types import Answer, Citation, DecisionTrace, Document, QuestionKind, Reason, Sentence
from assistant.language.conversation import Turn
from assistant.language.figures import PERCENT, Figure, asks_for_money, find_figures, is_money
from assistant.language.lexicon import noun_kind, synonyms_in
from assistant.language.patterns import CURRENCY
from assistant.language.question import Question, analyze
from assistant.language.spelling import respell_names
from assistant.language.text import SPEECH_VERBS, STOPWORDS, fold, stem, words
from assistant.retrieval.retrieve import SentenceRetriever

# The hand-set numbers of the rules are an ``AnswerPolicy`` carried by the support context
# (``ctx.policy``), passed in with it: no module global.

log = logging.getLogger(__name__)


def _refuse(
    turn: Turn,
    info: Question,
    code: Reason,
    reason: str,
    related: list[Evidence],
    trace: DecisionTrace,
    policy: AnswerPolicy,
) -> Answer:
    """A refusal; the nearest sentences go along as ``related`` only when they are on the topic
    (dense similarity at least ``related_min_dense``), never as citations."""
    rel = [
        citation_for(e.sentence, e.score)
        for e in related[:3]
        if not e.sentence.is_heading and e.dense >= policy.related_min_dense
    ]
    log.debug("refused reason=%s kind=%s question=%r top=%s", code, info.kind, turn.query, _trace(related))
    return Answer(
        text=reason,
        refused=True,
        citations=[],
        standalone_question=turn.query,
        kind=info.kind,
        related=rel,
        confidence=trace.p_right,
        reason=code,
        certainty="",
        trace=trace,
    )


def _trace(cands: list[Evidence], n: int = 3) -> str:
    """The top candidates' scores, for the DEBUG log (a developer's view of the decision)."""
    return "; ".join(
        f"#{c.sentence.sentence_id} p={c.score:.2f} rank={c.rank} dense={c.dense:.2f} "
        f"pred={c.predicate:.2f} names={c.entities_found:.1f} typed={c.type_ok}"
        for c in cands[:n]
    )


def _with_context(
    ctx: SentenceContext,
    ev: Evidence,
    kind: str,
    terms: tuple[str, ...] = (),
    supported: frozenset[int] = frozenset(),
) -> list[int]:
    """The best sentence plus the neighbour it leans on (anaphora, a quote that continues); a
    very short best sentence takes the next one when that one is itself likely to hold the
    answer (``supported``: rows the decision model gives at least its cite threshold), or when
    it answers a why-question without giving any reason."""
    i = ev.index
    idxs = [i]
    s = ctx.sentences[i]
    prev = neighbour(ctx, i, -1)
    nxt = neighbour(ctx, i, +1)
    if (
        prev is not None
        and ANAPHORIC_START.match(s.text)
        and kind in ("what", "why", "quote", "yesno", "who")
    ):
        idxs.insert(0, prev)
    if nxt is not None and kind in ("why", "quote", "what"):
        n_text = ctx.sentences[nxt].text
        opens_quote = s.text.count("“") > s.text.count("”")
        same_para = ctx.sentences[nxt].paragraph == s.paragraph
        adds_terms = (
            bool(terms)
            and same_para
            and bool((set(terms) & ctx.terms[nxt]) - ctx.terms[i])
            and bool(
                re.match(r"^\W*(nor|and|but|because|since|as|so|that|this|it|which)\b", n_text, re.IGNORECASE)
            )
        )
        # "Why did the union refuse?": the refusal sentence states the fact; the reason is
        # usually what the actor says next
        gives_reason = (
            kind == "why"
            and same_para
            and not _CAUSAL.search(s.text)
            and any(  # the same actor ...
                e.label == "PERSON" and words(e.text)[-1:] and words(e.text)[-1] in words(n_text)
                for e in s.entities
            )
            and (bool(re.search(r"[“”\"]", n_text)) or bool(set(words(n_text)) & SPEECH_VERBS))  # ... speaks
        )
        if (
            opens_quote
            or adds_terms
            or gives_reason
            or re.match(
                r"^\W*(that is why|this is why|because|so that|which is why)\b", n_text, re.IGNORECASE
            )
            or (
                len(words(s.text)) < ctx.policy.short_sentence_words
                and same_para
                # a short sentence that gives no reason cannot answer "why" alone ("Environmental
                # groups have also raised objections."): what follows it does
                and (nxt in supported or (kind == "why" and not _CAUSAL.search(s.text)))
            )
        ):
            idxs.append(nxt)
    return idxs


_CAUSAL = re.compile(
    r"\b(because|since|as a result|due to|so that|so as (not )?to|in order to|owing to|given that|to avoid|"
    r"for fear)\b",
    re.IGNORECASE,
)


@dataclass
class State:
    """What the stages of one answer share: the question parsed once, the retrieval context,
    and, as the stages go, the candidates, the chosen evidence and the draft."""

    turn: Turn
    info: Question
    ctx: SentenceContext
    retriever: SentenceRetriever
    documents: Mapping[str, Document]
    allowed: np.ndarray | None
    top_k: int
    model: DecisionModel
    t0: float = field(default_factory=time.perf_counter)
    cands: list[Evidence] = field(default_factory=list)
    best: Evidence | None = None
    draft: Draft = field(default_factory=Draft)
    idxs: list[int] = field(default_factory=list)  # the sentences the answer's body cites
    lead: str = ""  # the direct answer before the body ("Two parties [1].")
    trace: DecisionTrace = field(default_factory=DecisionTrace)
    band: Band | None = None  # set by ``_decide``
    # why no direct answer of the asked kind was found (WRONG_KIND, COUNTS_OTHER), and what a
    # refusal would say: the sentences may still answer it, the decision model judges
    gap: tuple[Reason, str] | None = None

    def no_direct_answer(self, code: Reason, text: str) -> Decision:
        """No direct answer of the asked kind: go on with the sentences alone (``gap`` is a
        feature of the decision, and its reason and text if the decision is to refuse)."""
        self.gap = (code, text)
        return None

    def refuse(self, code: Reason, text: str) -> Answer:
        return _refuse(self.turn, self.info, code, text, self.cands, self.trace, self.ctx.policy)

    def finish(self, draft: Draft) -> Answer:
        return _finish(self.turn, self.info, draft, self.documents, self.t0, self.trace, self.band)


Decision = Answer | None  # a stage's result: an Answer ends the pipeline, None goes on
Stage = Callable[[State], Decision]


def answer_question(
    turn: Turn,
    retriever: SentenceRetriever,
    documents: Mapping[str, Document],
    allowed: np.ndarray | None,
    top_k: int,
    model: DecisionModel,
    support: SentenceContext,
) -> Answer:
    """Answer ``turn`` from the documents, or refuse: run ``STAGES`` in order until one
    decides (every decision carries a ``Reason``); ``model`` makes the learned decisions;
    ``support``: the support context over the retriever's sentences (the index's tables), with
    the rules' policy; the caller keeps it per loaded index (``Assistant`` does).
    See the module docstring."""
    t0 = time.perf_counter()
    st = State(turn, _parse(turn, support), support, retriever, documents, allowed, top_k, model, t0)
    for stage in STAGES:
        decision = stage(st)
        if decision is not None:
            log.debug("decided by stage %s: %s", stage.__name__.lstrip("_"), decision.reason)
            return decision
    raise AssertionError("the last stage always decides")  # pragma: no cover


def _parse(turn: Turn, ctx: SentenceContext) -> Question:
    """Parse the question once; a follow-up's pronoun brings the previous topic's terms, and a
    name spelt one letter off takes the documents' spelling (``assistant.language.spelling``)."""
    info = analyze(turn.query)
    if turn.context and info.pronoun:
        # "Which countries are still buying it?": "it" is the previous question's topic.
        info = replace(info, terms=tuple(dict.fromkeys(info.terms + tuple(turn.context.split()))))
    info = respell_names(info, ctx.corpus_names, lambda: ctx.entity_names)
    return replace(info, synonyms=synonyms_in(turn.query, ctx.corpus_terms))


def _validate(st: State) -> Decision:
    """Instructions to do something else, or nothing to answer from."""
    if st.info.injection:
        return st.refuse(
            Reason.INJECTION,
            "I can only answer questions about the documents, from what they say; "
            "I won't follow instructions that ask me to do something else.",
        )
    if not st.retriever.sentences:
        return st.refuse(Reason.NO_DOCUMENTS, "No documents are indexed yet: add some and ask again.")
    return None


def _follow_next(st: State) -> Decision:
    """ "What did he say next?": the sentence after the last one the previous answer cited."""
    if not (st.turn.wants_next and st.turn.previous_keys):
        return None
    nxt = _next_after(st.turn, st.ctx, st.allowed)
    if nxt is None:
        return None
    draft = Draft(reason=Reason.FOLLOW_NEXT)
    n = draft.cite(st.ctx.sentences[nxt], 1.0)
    draft.text = f"{readable(st.ctx.sentences[nxt].text)} [{n}]"
    return st.finish(draft)


def _retrieve(st: State) -> Decision:
    """Candidates by hybrid retrieval (plus, for a follow-up, what the last answer cited),
    each re-scored for support; headings only when nothing else is left."""
    info, turn, ctx = st.info, st.turn, st.ctx
    expansion = tuple(t for alts in info.synonyms.values() for t in sorted(alts))
    # a follow-up: stay near what the last answer was about (rows by key, not by a scan)
    previous = ctx.rows.rows_of_keys(turn.previous_keys) if turn.previous_keys else []
    # A follow-up's earlier topic (context) also finds candidates, at weight 0.8; linear-time top-k.
    order, fused, dense = st.retriever.top(
        turn.query,
        max(st.ctx.policy.candidates, st.top_k),
        allowed=st.allowed,
        expansion=expansion,
        context=turn.context,
        include=previous,
    )
    order += [i for i in previous if i not in order]
    scored = [
        replace(score_evidence(info, ctx, i, float(fused[i]), float(dense[i])), rank=r)
        for r, i in enumerate(order)
    ]
    rows = candidate_features(info, scored, ctx.corpus_terms, lambda s: _options(info, s))
    probs = st.model.candidate.predict(rows)
    ranked = sorted(
        (replace(c, score=float(p)) for c, p in zip(scored, probs, strict=True)), key=lambda e: -e.score
    )
    st.trace = DecisionTrace(
        candidates=tuple((c.sentence.doc_id, c.sentence.sentence_id) for c in scored),
        candidate_features=tuple(tuple(r) for r in rows),
        candidate_p=tuple(float(p) for p in probs),
    )
    st.cands = [c for c in ranked if not c.sentence.is_heading] or ranked
    if not st.cands:
        return st.refuse(Reason.LOW_SUPPORT, f"{REFUSAL_NOT_STATED} anything about that.")
    return None


def _meta(st: State) -> Decision:
    """Questions about the documents themselves (their headings, the people they name)."""
    meta = _about_the_documents(st.info, st.ctx, st.allowed)
    if meta is None:
        return None
    meta.reason = Reason.META
    return st.finish(meta)


def _substituted_premise(st: State) -> Decision:
    """ "Why will the HQ be in <wrong city>?": a sentence says it all with another name."""
    fix = presupposition_correction(st.info, st.ctx, st.cands)
    if fix is None:
        return None
    fix.reason = Reason.PREMISE_CORRECTED
    return st.finish(fix)


def _names_absent(st: State) -> Decision:
    """A name the question asks about is in no document."""
    info = st.info
    missing = [
        n for n, ks in zip(info.entities, info.entity_keys, strict=True) if ks and not st.ctx.in_corpus(ks)
    ]
    if not missing:
        return None
    return st.refuse(
        Reason.NOT_MENTIONED,
        f"{REFUSAL_NOT_STATED} anything about {', '.join(missing)}: it is not mentioned in the documents.",
    )


def _compute(st: State) -> Decision:
    """Arithmetic over stated figures; a remainder with no stated part is not given."""
    if st.info.kind != QuestionKind.ARITHMETIC:
        return None
    draft = Draft(reason=Reason.COMPUTED)
    if compute(st.info, st.ctx, st.cands, draft):
        return st.finish(draft)
    if st.info.operation == "remainder":
        return st.refuse(Reason.CONDITION_ABSENT, f"{REFUSAL_NOT_STATED} how much of it that is.")
    return None


def _choose_best(st: State) -> Decision:
    """The evidence to answer from: the candidate most likely to hold the answer (the candidate
    model weighs whether it holds the kind of fact asked for); how likely the answer from it is
    to be right is the decision model's to judge (``_decide``)."""
    st.best = st.cands[0]
    return None


def _correction(st: State, idxs: list[int], lead: str) -> Draft:
    """A PREMISE_CORRECTED draft: ``lead`` and the cited sentences ``idxs``."""
    draft = Draft(reason=Reason.PREMISE_CORRECTED)
    score = _best(st).score
    marks = " ".join(
        f"{readable(st.ctx.sentences[j].text)} [{draft.cite(st.ctx.sentences[j], score)}]" for j in idxs
    )
    draft.text = f"{lead} {marks}"
    draft.short = "No" if st.info.kind == "yesno" else ""
    return draft


def _condition_absent(st: State) -> Decision:
    """A topic, condition or figure the question sets that the documents never mention."""
    gap = absent_ask(st.info, st.ctx, _best(st))
    return st.refuse(Reason.CONDITION_ABSENT, gap) if gap else None


def _start_draft(st: State) -> Decision:
    """The body's sentences: the best one plus the neighbour it leans on."""
    st.draft = Draft(reason=Reason.ANSWERED)
    supported = frozenset(c.index for c in st.cands if c.score >= st.model.cite_threshold)
    st.idxs = _with_context(st.ctx, _best(st), st.info.kind, st.info.terms, supported)
    return None


def _decide(st: State) -> Decision:
    """The decision model's P(right) for this answer: refuse below its answer threshold (the
    best candidates go along as related passages), hedge ("Probably ...") below its confident
    threshold, else assert."""
    best = _best(st)
    options = len(entity_options(st.info, best.sentence, st.info.expected)) if st.info.expected else 0
    gap = st.gap[0] if st.gap else None
    feats = answer_features(
        st.info, best, st.cands, st.draft.short, options, gap, st.ctx.corpus_terms, st.trace.span_p
    )
    p_right = float(st.model.answer.predict([feats])[0])
    st.trace = replace(st.trace, answer_features=tuple(feats), p_right=p_right)
    st.band = st.model.band(p_right)
    log.debug("decision p_right=%.3f band=%s top=%s", p_right, st.band, _trace(st.cands))
    if st.band == Band.UNSURE:
        refusal = st.refuse(*(st.gap or (Reason.LOW_CONFIDENCE, _unsure_text(st.info))))
        return replace(refusal, certainty=Band.UNSURE)
    st.draft.confidence = p_right
    if st.band == Band.PROBABLE:
        st.lead = _hedged(st.lead, st.draft.short)
    return None


def _hedged(lead: str, short: str) -> str:
    """ "Two parties [1]." -> "Probably two parties [1] — check the cited sentences." (with no
    direct answer, ``_compose`` puts "Probably —" before the sentences themselves)."""
    if not lead:
        return ""
    body = lead.rstrip(".:")
    if short and body[:1].isupper() and short[:1].islower():
        body = body[:1].lower() + body[1:]
    return f"Probably {body} — check the cited sentences."


def _premise_of_answer(st: State) -> Decision:
    """The answer's sentences contradict what the question takes for granted (a negative
    premise, a figure it states): answer by correcting it."""
    if st.info.kind not in ("why", "yesno", "what", "how_many", "how_much"):
        return None
    if not premise_problem(st.info, st.ctx, st.idxs):
        return None
    lead = "No." if st.info.kind == "yesno" else "The documents do not support the premise of the question."
    draft = _correction(st, st.idxs, f"{lead} What they say is:")
    draft.confidence = st.draft.confidence
    return st.finish(draft)


def _short_answer(st: State) -> Decision:
    """The direct answer before the cited sentences, by question kind (``SHORT_ANSWERS``);
    a kind with no such answer (why, quote, ...) is answered by the sentences alone."""
    extract = SHORT_ANSWERS.get(st.info.kind)
    return extract(st) if extract is not None else None


def _short_figure(st: State) -> Decision:
    """How many / how much: the figure in the best sentence (or the next), and what it counts."""
    info, ctx, draft, best = st.info, st.ctx, st.draft, _best(st)
    fig = _pick_figure(st, best.sentence)
    src, src_row = best.sentence, best.index
    if fig is None:
        for j in ctx.window(best.index, 0, 1):
            fig = _pick_figure(st, ctx.sentences[j])
            if fig:
                src, src_row = ctx.sentences[j], j
                st.idxs = sorted(set(st.idxs) | {j})
                break
    if fig is None:
        return st.no_direct_answer(Reason.WRONG_KIND, f"{REFUSAL_NOT_STATED} that figure.")
    counted = _counted_noun(fig, src, st.cands) if info.kind == "how_many" else ""
    if counted and info.head_noun and not _same_thing(st.retriever, info.head_noun, counted, st.ctx.policy):
        return st.no_direct_answer(
            Reason.COUNTS_OTHER,
            f"{REFUSAL_NOT_STATED} how many {info.head_noun}: the closest figure, {fig.text}, "
            f"counts {counted}.",
        )
    if info.kind == "how_much" and asks_for_money(info.terms) and not is_money(fig, src):
        return st.no_direct_answer(  # "How much will the toll cost?": not "up to 40,000" vehicles
            Reason.WRONG_KIND,
            f"{REFUSAL_NOT_STATED} what it costs: the closest figure, {fig.text}, is no sum of money.",
        )
    noun = info.head_noun if info.head_noun and info.head_noun not in fold(fig.text) else ""
    draft.short = f"{fig.text} {noun}".strip()
    st.lead = f"{draft.short[0].upper()}{draft.short[1:]} [{draft.cite(src, best.score)}]."
    if src is not best.sentence:
        # its row as found (``sentences.index(src)`` read every row before it: seconds at 100k)
        st.idxs = [j for j in st.idxs if ctx.sentences[j].key != src.key] + [src_row]
    return None


def _short_share(st: State) -> Decision:
    """A percentage question the documents answer with a stated percentage (``compute``
    declines to work one out then): that percentage, chosen by the span model as a figure is.
    Other arithmetic ``compute`` declined is answered by the sentences alone."""
    if st.info.operation != "share":
        return None
    best = _best(st)
    figs = [f for f in figure_options(st.info, best.sentence) if f.unit in PERCENT]
    pick = _pick_span(st, best.sentence, [SpanOption.of_figure(f, "", best.sentence.text) for f in figs])
    if pick is None:
        return None
    st.draft.short = figs[pick].text
    st.lead = f"{st.draft.short[0].upper()}{st.draft.short[1:]} [{st.draft.cite(best.sentence, best.score)}]."
    return None


def _pick_span(st: State, sentence: Sentence, options: list[SpanOption]) -> int | None:
    """Which of ``options`` (the names or figures of ``sentence`` that could answer) the span
    model finds likeliest to be the direct answer (``None`` when there is none); the options,
    their features and P go into the trace."""
    if not options:
        return None
    rows = span_features(st.info, sentence, options)
    p = st.model.span.predict(rows)
    st.trace = replace(
        st.trace,
        span_texts=tuple(o.text for o in options),
        span_features=tuple(tuple(r) for r in rows),
        span_p=tuple(float(v) for v in p),
    )
    log.debug("span options=%s p=%s", [o.text for o in options], [round(float(v), 3) for v in p])
    return int(np.argmax(p))


def _options(info: Question, sentence: Sentence) -> list[SpanOption]:
    """The direct answers ``sentence`` offers a question asking for a figure (how many / how
    much) or for a person, place, date or name; none for other kinds."""
    if info.kind in (QuestionKind.HOW_MANY, QuestionKind.HOW_MUCH):
        return [
            SpanOption.of_figure(f, info.head_noun, sentence.text) for f in figure_options(info, sentence)
        ]
    if info.kind in (QuestionKind.WHO, QuestionKind.WHERE, QuestionKind.WHEN, QuestionKind.NAME):
        return [SpanOption.of_entity(e) for e in entity_options(info, sentence, info.expected)]
    return []


def _pick_figure(st: State, sentence: Sentence) -> Figure | None:
    """The figure of ``sentence`` that answers a how-many/how-much question (``_pick_span``)."""
    figs = figure_options(st.info, sentence)
    pick = _pick_span(st, sentence, [SpanOption.of_figure(f, st.info.head_noun, sentence.text) for f in figs])
    return figs[pick] if pick is not None else None


def _short_entity(st: State) -> Decision:
    """Who / where / when / name: the name, place or date in the best sentence, the speaker of
    a quote, or the person a title stands for."""
    info, ctx, draft, best = st.info, st.ctx, st.draft, _best(st)
    options = entity_options(info, best.sentence, info.expected)
    pick = _pick_span(st, best.sentence, [SpanOption.of_entity(e) for e in options])
    ent = options[pick] if pick is not None else None
    role_name = ctx.role_refers_to_salient(best.index) if info.kind == "who" else ""
    if info.kind == "who" and asks_for_speaker(info):
        speaker = speaker_answer(info, ctx, best.index)
        if speaker:
            ent, role_name = None, speaker
    if ent is None and role_name:
        draft.short = role_name
        by_title = not any(
            fold(role_name) in fold(e.text) or fold(e.text) in fold(role_name) for e in best.sentence.entities
        )
        st.lead = f"{role_name} [{draft.cite(best.sentence, best.score)}]" + (
            f" (the sentence refers to {role_name} by title or pronoun)."
            if by_title and fold(role_name.split()[-1]) not in fold(best.sentence.text)
            else "."
        )
    elif ent is not None:
        draft.short = ent.text
        st.lead = f"{ent.text} [{draft.cite(best.sentence, best.score)}]."
    else:  # no name, place or date of the asked kind (or the NER model missed it)
        return st.no_direct_answer(Reason.WRONG_KIND, _not_stated_text(info))
    return None


def _short_list(st: State) -> Decision:
    """Which ones: the names of the asked-for kind in the close candidates, or in the
    sentence after the best one when that is where the list sits."""
    info, ctx, draft, best = st.info, st.ctx, st.draft, _best(st)
    labels = info.list_labels
    names: list[str] = []
    holders: list[Evidence] = []
    for c in st.cands[:6]:
        if (c is not best and c.score < st.model.cite_threshold) or c.entities_found < 1.0:
            continue
        got = [e.text for e in entity_answers(info, c.sentence, labels)]
        if got:
            holders.append(c)
            names += [g for g in got if fold(g) not in {fold(n) for n in names}]
    head = stem(info.list_noun) if info.list_noun else ""
    nxt = neighbour(ctx, best.index, 1)
    if (
        names
        and head
        and nxt is not None
        and head not in ctx.terms[best.index]
        and head in ctx.terms[nxt]
        and entity_answers(info, ctx.sentences[nxt], labels)
    ):
        names = []  # "... the only two countries that continue to do so, <A> and <B>"
    if not names and nxt is not None:  # the list may sit in the sentence after the one that matches
        got = [e.text for e in entity_answers(info, ctx.sentences[nxt], labels)]
        if got:
            holders = [best, score_evidence(info, ctx, nxt, best.retrieval, best.dense)]
            names = got
        if names:
            for h in holders:
                draft.cite(h.sentence, h.score)
            draft.short = ", ".join(names)
            st.lead = f"{join_names(names)} [1][2]."
            st.idxs = [h.index for h in holders]
    elif names and best in holders:
        holders = [best] + [h for h in holders if h is not best]
        for h in holders:
            draft.cite(h.sentence, h.score)
        draft.short = ", ".join(names)
        st.lead = f"{join_names(names)} [" + "][".join(str(i + 1) for i in range(len(holders))) + "]."
        st.idxs = [h.index for h in holders]
    if not draft.short:
        return st.no_direct_answer(Reason.WRONG_KIND, _not_stated_text(info))
    return None


def _short_yesno(st: State) -> Decision:
    """Yes / No by the polarity of the best matching clause (``premises.polarity_differs``).
    Always one of the two: how sure it is, P(right) says, and a doubtful one is hedged or
    refused by the decision like any other answer."""
    st.lead = "No." if polarity_differs(st.info, _best(st).sentence) else "Yes."
    st.draft.short = st.lead.rstrip(".")
    return None


def _compose(st: State) -> Decision:
    """The direct answer, then the cited sentences; a figure is corroborated by a second
    sentence that states the same value. Citations are verified in ``_finish``."""
    draft, best, ctx = st.draft, _best(st), st.ctx
    body = " ".join(
        f"{readable(ctx.sentences[j].text)} [{draft.cite(ctx.sentences[j], best.score)}]" for j in st.idxs
    )
    if st.info.kind in ("how_many", "how_much") and draft.short:
        value = next((f.value for f in find_figures(draft.short)), None)
        for c in st.cands[1:4]:
            if c.index in st.idxs or c.score < st.model.cite_threshold or c.entities_found < 1.0:
                continue
            if value is not None and any(abs(f.value - value) < 1e-6 for f in find_figures(c.sentence.text)):
                body += f" {readable(c.sentence.text)} [{draft.cite(c.sentence, c.score)}]"
                break
    if not st.lead and st.band == Band.PROBABLE:
        body = f"Probably — check it: {body}"
    draft.text = f"{st.lead}\n\n{body}" if st.lead else body
    return st.finish(draft)


def _best(st: State) -> Evidence:
    assert st.best is not None, "_choose_best runs before the stages that read it"
    return st.best


SHORT_ANSWERS: dict[QuestionKind, Stage] = {
    QuestionKind.HOW_MANY: _short_figure,
    QuestionKind.HOW_MUCH: _short_figure,
    QuestionKind.WHO: _short_entity,
    QuestionKind.WHERE: _short_entity,
    QuestionKind.WHEN: _short_entity,
    QuestionKind.NAME: _short_entity,
    QuestionKind.LIST: _short_list,
    QuestionKind.YESNO: _short_yesno,
    QuestionKind.ARITHMETIC: _short_share,
}

# The answer, stage by stage: each returns a decision (an Answer with its Reason) or None.
STAGES: tuple[Stage, ...] = (
    _validate,  # injection, no documents
    _follow_next,  # "what did he say next?"
    _retrieve,  # candidates, ranked by P(holds the answer)
    _meta,  # about the documents themselves
    _substituted_premise,  # a wrong name in a why / yes-no premise
    _names_absent,  # a name no document mentions
    _compute,  # arithmetic
    _choose_best,  # the most likely candidate
    _condition_absent,  # a topic / condition / figure never mentioned
    _start_draft,  # the best sentence and the neighbour it leans on
    _premise_of_answer,  # the answer contradicts the question's premise
    _short_answer,  # the direct answer by kind
    _decide,  # P(right): answer, hedge or refuse
    _compose,  # sentences, corroboration, citations verified
)


def _about_the_documents(info: Question, ctx: SentenceContext, allowed: np.ndarray | None) -> Draft | None:
    """Questions about the documents themselves: their headings, the people they name."""
    if not info.about_documents:  # the usual case: no scan of every sentence per question
        return None
    rows = [i for i, s in enumerate(ctx.sentences) if allowed is None or allowed[i]]
    if info.about_documents == "headings":
        heads = [i for i in rows if ctx.sentences[i].is_heading]
        if not heads:
            return None
        draft = Draft()
        parts = [f"“{ctx.sentences[i].text}” [{draft.cite(ctx.sentences[i], 1.0)}]" for i in heads]
        draft.short = ", ".join(ctx.sentences[i].text for i in heads)
        draft.text = f"The headings are {join_names(parts)}."
        return draft
    if info.about_documents == "people":
        first: dict[str, tuple[int, str]] = {}
        for i in rows:
            for e in ctx.sentences[i].entities:
                if e.label != "PERSON" or not words(e.text):
                    continue
                key = words(e.text)[-1]
                name = clean_entity(e.text)
                if key not in first:
                    first[key] = (i, name)
                elif len(name) > len(first[key][1]):
                    first[key] = (first[key][0], name)
        if len(first) < 2:
            return None
        draft = Draft()
        parts = [f"{name} [{draft.cite(ctx.sentences[i], 1.0)}]" for i, name in first.values()]
        draft.short = ", ".join(name for _i, name in first.values())
        draft.text = f"The people named are {join_names(parts)}."
        return draft
    return None


_SIGN_NAMES = {"$": "dollars", "€": "euros", "£": "pounds", "¥": "yen"}


def _counted_noun(fig: Figure, src: Sentence, cands: list[Evidence]) -> str:
    """What a figure counts: its unit, the noun right after it ("Two parties"), or, for a
    bare figure ("Up to 26 of them"), the noun another candidate sentence states with the
    same value ("at least 26 countries")."""
    if fig.unit:
        return _SIGN_NAMES.get(fig.unit, fig.unit)  # "$159 million" counts dollars
    after = re.match(r"\s+([a-z]+)", src.text[fig.end :])
    if after and after.group(1) not in STOPWORDS and noun_kind(after.group(1)) is not None:
        return after.group(1)
    for c in cands[:6]:
        for g in find_figures(c.sentence.text):
            # a percentage or a sum of money with the same value counts nothing
            if (
                g.unit
                and abs(g.value - fig.value) < 1e-9
                and not CURRENCY.search(g.unit)
                and g.unit not in PERCENT
            ):
                return g.unit
    return ""


def _same_thing(retriever: SentenceRetriever, a: str, b: str, policy: AnswerPolicy) -> bool:
    """Do two nouns name the same kind of thing ("nations"/"countries": yes; "soldiers"/
    "countries": no)? Same stem, or close MiniLM embeddings (``same_noun_similarity``)."""
    if stem(fold(a)) == stem(fold(b)):
        return True
    va, vb = retriever.embedder.embed([a, b])
    return float(va @ vb) >= policy.same_noun_similarity


def _not_stated_text(info: Question) -> str:
    what = {
        "who": "who that is",
        "where": "where that is",
        "when": "when that is or was",
        "how_many": "that number",
        "how_much": "that amount",
        "why": "why",
        "list": "which ones",
    }.get(info.kind, "that")
    return f"{REFUSAL_NOT_STATED} {what}. The closest passages are listed as related, not as sources."


def _unsure_text(info: Question) -> str:
    return (
        "I could not find a sentence that clearly answers this. "
        "The most likely passages are listed as related — they may hold the answer."
    )


def _next_after(turn: Turn, ctx: SentenceContext, allowed: np.ndarray | None) -> int | None:
    last = max(ctx.rows.rows_of_keys(turn.previous_keys), default=None)
    if last is None:
        return None
    j = neighbour(ctx, last, +1)
    while j is not None and ctx.sentences[j].is_heading:
        j = neighbour(ctx, j, +1)
    if j is not None and allowed is not None and not allowed[j]:
        return None
    return j


def _finish(
    turn: Turn,
    info: Question,
    draft: Draft,
    documents: Mapping[str, Document],
    t0: float,
    trace: DecisionTrace,
    band: Band | None,
) -> Answer:
    cites: list[Citation] = [citation_for(s, sc) for s, sc in zip(draft.sentences, draft.scores, strict=True)]
    text, cites = renumber(draft.text, cites)
    exact = verify(cites, documents)
    if len(exact) != len(cites):  # never show a citation that is not exact: drop its markers
        bad = {i + 1 for i, c in enumerate(cites) if c not in exact}
        text = re.sub(r"\[(\d+)\]", lambda m: "" if int(m.group(1)) in bad else m.group(0), text)
        text, cites = renumber(text, cites)
    log.debug(
        "answered reason=%s kind=%s question=%r short=%r", draft.reason, info.kind, turn.query, draft.short
    )
    return Answer(
        text=text,
        refused=False,
        citations=cites,
        standalone_question=turn.query,
        short_answer=draft.short,
        kind=info.kind,
        timings={"answer_ms": (time.perf_counter() - t0) * 1000},
        confidence=draft.confidence,
        reason=draft.reason,
        certainty=band or "",
        trace=trace,
    )
