"""Issue #13 (scale): the lazy support context, the per-document rows and the cache's corpus
statistics give exactly what the former all-at-once computation gave.

The reference below is the eager ``SentenceContext`` as it was before it became lazy (every
sentence's terms and names, the salient person of every document, idf from one pass).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from assistant.answering.support import ROLE_OR_PRONOUN, SentenceContext
from assistant.core.doc_rows import DocRows, RowView
from assistant.core.types import Entity, Sentence
from assistant.language.question import SALIENT_KEY, entity_keys
from assistant.language.text import content_terms, words


def _eager(sentences: list[Sentence]) -> dict[str, Any]:
    """The pre-#13 ``SentenceContext.__init__`` + ``_resolve_salient_person``, verbatim in effect."""
    terms = [set(content_terms(s.text)) for s in sentences]
    names = [t | set(words(s.text)) for t, s in zip(terms, sentences, strict=True)]
    by_doc: dict[str, dict[str, int]] = {}
    person_names: dict[str, dict[str, str]] = {}
    for s in sentences:
        counts = by_doc.setdefault(s.doc_id, {})
        got = person_names.setdefault(s.doc_id, {})
        for e in s.entities:
            if e.label == "PERSON" and words(e.text):
                key = words(e.text)[-1]
                counts[key] = counts.get(key, 0) + 1
                if len(e.text) > len(got.get(key, "")):
                    got[key] = e.text
    salient = {d: max(c, key=c.get) for d, c in by_doc.items() if c and max(c.values()) >= 3}
    salient_name = {d: person_names[d][key] for d, key in salient.items()}
    for i, s in enumerate(sentences):
        main = salient.get(s.doc_id)
        if main and main in names[i]:
            names[i] = names[i] | {SALIENT_KEY}
        if not main or main in names[i]:
            continue
        if ROLE_OR_PRONOUN.search(s.text) and not any(e.label == "PERSON" for e in s.entities):
            names[i] = names[i] | {main, SALIENT_KEY}
    df: dict[str, int] = {}
    for ts in terms:
        for t in ts:
            df[t] = df.get(t, 0) + 1
    n = max(1, len(sentences))
    return {"terms": terms, "names": names, "person_names": person_names, "salient_name": salient_name,
            "idf": {t: math.log(1 + n / c) for t, c in df.items()}, "default_idf": math.log(1 + n),
            "corpus_names": set().union(*names) if names else set(), "corpus_terms": set(df)}


def _assert_same(ctx: SentenceContext, sentences: list[Sentence]) -> None:
    want = _eager(sentences)
    for i in reversed(range(len(sentences))):  # any order of first reads gives the same values
        assert ctx.terms[i] == want["terms"][i], i
        assert ctx.names[i] == want["names"][i], i
    for d in {s.doc_id for s in sentences} | {"no-such-doc"}:
        assert ctx.person_names.get(d, {}) == want["person_names"].get(d, {}), d
        assert ctx.salient_name.get(d, "") == want["salient_name"].get(d, ""), d
    assert ctx.idf == want["idf"] and ctx.default_idf == want["default_idf"]
    assert set(ctx.corpus_names) == want["corpus_names"]
    assert ctx.corpus_terms == want["corpus_terms"]
    for i in range(len(sentences)):
        assert ctx.sayers(i) == _reference_sayers(want, sentences, i), i
    for names in (["Macron"], ["Ana Costa", "Paris"], ["Nobody"], ["United States"]):
        keys = {k for n in names for k in entity_keys(n)}
        scan = {e.label for s in sentences for e in s.entities if set(entity_keys(e.text)) & keys}
        assert ctx.labels_of(keys) == scan, names


def _reference_sayers(want: dict[str, Any], sentences: list[Sentence], i: int) -> set[str]:
    """``sayers`` over the eager tables (same code as ``SentenceContext.sayers``)."""
    ref = SentenceContext.__new__(SentenceContext)
    ref.sentences = sentences
    ref.person_names = want["person_names"]  # type: ignore[assignment]
    ref.salient_name = want["salient_name"]  # type: ignore[assignment]
    return ref.sayers(i)


def _sentence(doc: str, sid: int, text: str, names: tuple[str, ...] = ()) -> Sentence:
    """``names``: entity texts, PERSON unless written ``text|LABEL``."""
    ents = []
    for n in names:
        name, _, label = n.partition("|")
        ents.append(Entity(name, label or "PERSON", text.index(name), text.index(name) + len(name)))
    return Sentence(doc, sid, text, 0, len(text), entities=tuple(ents))


def _corpus() -> list[Sentence]:
    """Three documents: one with a main actor (3+ mentions, role and pronoun references), one
    with a person mentioned twice, one with none; in (document, sentence) order."""
    a = [("Emmanuel Macron met the ministers in Paris.", ("Emmanuel Macron", "Paris|GPE")),
         ("The president said troops would go.", ()),
         ("Macron added that he was confident.", ("Macron",)),
         ("He spoke for an hour.", ()),
         ("Olaf Scholz disagreed with Macron.", ("Olaf Scholz", "Macron")),
         ("Twelve months later the plan changed.", ())]
    b = [("Ana Costa opened the bridge.", ("Ana Costa",)),
         ("Costa said it cost 450 million euros.", ("Costa",)),
         ("The mayor thanked the workers.", ())]
    c = [("Oil sales rose in the United States.", ("United States|GPE",)), ("", ()),
         ("Prices fell in Paris.", ("Paris|ORG",))]
    out = []
    for doc, items in (("a.txt", a), ("b.txt", b), ("c.txt", c)):
        out += [_sentence(doc, i, t, p) for i, (t, p) in enumerate(items)]
    return out


def test_lazy_context_equals_the_eager_one_on_a_multi_document_corpus() -> None:
    sentences = _corpus()
    _assert_same(SentenceContext(sentences), sentences)
    interleaved = sentences[::2] + sentences[1::2]  # a plain list need not keep documents together
    _assert_same(SentenceContext(interleaved), interleaved)


def test_cache_statistics_equal_the_eager_ones(tmp_path: Any) -> None:
    """From the query cache (``df.npy``, ``names.json``, row ranges), as a question process reads it."""
    snap = _write_cache(tmp_path, _corpus())
    ctx = SentenceContext(snap.sentences, snap.terms)
    assert ctx.rows._ranged  # the table's ranges, not a grouping pass
    _assert_same(ctx, _corpus())
    from assistant.language.check import document_words

    assert snap.documents.words() == document_words([snap.documents[d].text for d in snap.documents])


def test_lazy_context_on_the_shipped_article(real_assistant: Any) -> None:
    real_assistant.ask("Where was the meeting held?")
    sentences = list(real_assistant.sentences)
    _assert_same(real_assistant.answer_context().support, sentences)
    _assert_same(SentenceContext(sentences), sentences)


def _write_cache(tmp_path: Any, sentences: list[Sentence]) -> Any:
    from assistant.index.cache_build import write_cache
    from assistant.index.snapshot import open_cache
    from assistant.index.store import entities_to_json

    texts: dict[str, str] = {}
    rows = []
    for s in sentences:
        start = len(texts.get(s.doc_id, ""))
        texts[s.doc_id] = texts.get(s.doc_id, "") + s.text + " "
        rows.append((s.doc_id, s.sentence_id, start, start + len(s.text), 0, False,
                     entities_to_json(s.entities) if s.entities else ""))
    docs = [{"doc_id": d, "text": t, "source": d, "title": d, "hash": "h"} for d, t in sorted(texts.items())]
    folder = tmp_path / "cache" / "gen-t"
    folder.mkdir(parents=True)
    vectors = np.random.default_rng(0).normal(size=(len(rows), 384)).astype(np.float32)
    write_cache(folder, docs, rows, vectors)
    snap = open_cache(tmp_path / "cache", "t")
    assert snap is not None
    return snap


def test_document_rows_from_the_table_and_from_a_list(tmp_path: Any) -> None:
    sentences = _corpus()
    snap = _write_cache(tmp_path, sentences)
    for rows in (DocRows(snap.sentences), DocRows(sentences), DocRows(sentences[::-1])):
        base = rows.sentences
        for d in ("a.txt", "b.txt", "c.txt", "missing"):
            assert list(rows.rows(d)) == [i for i, s in enumerate(base) if s.doc_id == d]
        for chosen in (["b.txt"], ["c.txt", "a.txt"], ["missing"]):
            want = np.array([s.doc_id in chosen for s in base])
            assert np.array_equal(rows.mask(chosen), want)
            view = RowView(base, rows.selection(chosen))
            assert list(view) == [s for s in base if s.doc_id in chosen]
            assert [view[i] for i in range(len(view))] == list(view)
        for i, s in enumerate(base):
            assert rows.row_of(s.key) == i
        assert rows.row_of(("a.txt", 99)) is None and rows.row_of(("zzz", 0)) is None
        assert rows.rows_of_keys([("b.txt", 1), ("a.txt", 0), ("a.txt", 0)]) == sorted(
            {rows.row_of(("b.txt", 1)), rows.row_of(("a.txt", 0))}
        )


@pytest.mark.parametrize("doc_ids", [None, ["b.txt"]])
def test_document_filter_answers_as_before(tmp_path: Any, fake_embedder: Any, doc_ids: Any) -> None:
    """The filter by row ranges gives the answer the per-sentence scan gave (same rows allowed)."""
    from dataclasses import replace

    from assistant import Assistant
    from assistant.core.settings import Settings
    from assistant.core.types import Document
    from assistant.index.snapshot import IndexSnapshot

    sentences = _corpus()
    docs = {d: Document(d, " ".join(s.text for s in sentences if s.doc_id == d), d)
            for d in ("a.txt", "b.txt", "c.txt")}
    vectors = fake_embedder.embed([s.text for s in sentences])
    settings = replace(Settings.from_env(), index_dir=tmp_path / "unused")
    bot = Assistant(settings, snapshot=IndexSnapshot(docs, sentences, vectors), embedder=fake_embedder)
    a = bot.ask("Who opened the bridge?", doc_ids=doc_ids)
    assert "Ana Costa" in a.text and not a.refused
    b = bot.ask("Who met the ministers?", doc_ids=doc_ids)
    assert b.refused == (doc_ids is not None)


def test_follow_up_lookup_finds_what_the_scan_finds(tmp_path: Any) -> None:
    """``followup_lookup`` (large corpora) gives ``resolve`` the same quoted sentences and the
    same person words as reading every allowed sentence."""
    from assistant.core.types import Message
    from assistant.language.conversation import _cited_sentences, resolve
    from assistant.language.text import fold
    from assistant.retrieval.bm25_mmap import SavedBM25
    from assistant.retrieval.followup_lookup import FollowUpLookup

    snap = _write_cache(tmp_path, _corpus())
    table = snap.sentences
    lookup = FollowUpLookup(table, SavedBM25(snap.bm25_dir), snap.documents.person_words(), table.doc_starts)
    answers = [
        "Ana Costa [1]. Ana Costa opened the bridge. [1] Costa said it cost 450 million euros. [2]",
        "The president said troops would go [1].",
        "Macron met the ministers in Paris and was confident.",  # overlap, no exact quote
        "Nothing about any of that.",
        "",
    ]
    in_b = np.array([s.doc_id == "b.txt" for s in table])
    masks = [None, in_b, ~in_b]
    for allowed in masks:
        rows = [s for i, s in enumerate(table) if allowed is None or allowed[i]]
        bound = lookup.bind(allowed)
        for answer in answers:
            assert _cited_sentences(answer, bound.quoted(answer)) == _cited_sentences(answer, rows), answer
        people = {fold(w) for s in rows for e in s.entities if e.label == "PERSON" for w in e.text.split()}
        for word in ("macron", "costa", "ana", "scholz", "paris", "nobody"):
            assert bound.is_person_word(word) == (word in people), (word, allowed)
        for answer in answers:
            history = [Message("user", "Who opened the bridge?"), Message("assistant", answer)]
            for q in ("What did he say next?", "And Macron?", "Where did she go?"):
                assert resolve(q, history, rows, bound) == resolve(q, history, rows), (q, answer)


def test_a_question_reads_a_few_rows_not_the_corpus(tmp_path: Any, fake_embedder: Any) -> None:
    """Over the query cache, answering (first question, a document filter, a follow-up) turns
    only a few rows into ``Sentence`` objects, however many there are: nothing on the question
    path reads every sentence (issue #13). One document is large on purpose (a book)."""
    from dataclasses import replace

    from assistant import Assistant
    from assistant.core.settings import Settings

    filler = [_sentence("big.txt", i, f"Section {i} describes the harbour works of year {1900 + i}.")
              for i in range(1500)]
    sentences = sorted(_corpus() + filler, key=lambda s: (s.doc_id, s.sentence_id))
    snap = _write_cache(tmp_path, sentences)  # the cache's rows are in this order too
    snap = replace(snap, embeddings=fake_embedder.embed([s.text for s in sentences]))
    settings = replace(Settings.from_env(), index_dir=tmp_path / "unused")
    bot = Assistant(replace(settings, ann_min_sentences=1000), snapshot=snap, embedder=fake_embedder)
    first = bot.ask("Who opened the bridge?")
    assert "Ana Costa" in first.text
    bot.ask("Who opened the bridge?", doc_ids=["b.txt", "big.txt"])
    history = [{"role": "user", "content": "Who opened the bridge?"},
               {"role": "assistant", "content": first.text}]
    bot.ask("What did she say next?", history, doc_ids=["b.txt"])
    read = sum(s is not None for s in snap.sentences._lazy._memo)
    assert read < 120, f"{read} of {len(sentences)} rows read"
