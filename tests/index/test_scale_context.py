"""The support context reads every corpus fact from the query cache's tables (issue #13: no
pass over every sentence per question; issue #20: one code path per fact, an index held in
memory is written into the same tables by ``assistant.index.memory.snapshot_from_rows``).

The expectations below are worked out by hand on a small invented corpus.
"""

from __future__ import annotations

import gc
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from assistant.answering.support import SentenceContext
from assistant.core.doc_rows import DocRows, RowView
from assistant.core.types import Document, Entity, Sentence
from assistant.index.memory import snapshot_from_rows
from assistant.index.snapshot import IndexSnapshot
from assistant.language.question import SALIENT_KEY, entity_keys
from assistant.language.text import content_terms, words


def _sentence(doc: str, sid: int, text: str, names: tuple[str, ...] = ()) -> Sentence:
    """``names``: entity texts, PERSON unless written ``text|LABEL``."""
    ents = []
    for n in names:
        name, _, label = n.partition("|")
        ents.append(Entity(name, label or "PERSON", text.index(name), text.index(name) + len(name)))
    return Sentence(doc, sid, text, 0, len(text), entities=tuple(ents))


def _corpus() -> list[Sentence]:
    """Three invented documents: one with a main actor (3 mentions of Velden, role and pronoun
    references), one with a person mentioned twice, one with none; in (document, sentence) order."""
    a = [("Mara Velden met the ministers in Lisbon.", ("Mara Velden", "Lisbon|GPE")),
         ("The president said the ferries would run.", ()),
         ("Velden added that she was confident.", ("Velden",)),
         ("She spoke for an hour.", ()),
         ("Tomas Brand disagreed with Velden.", ("Tomas Brand", "Velden")),
         ("Twelve months later the plan changed.", ())]
    b = [("Ana Costa opened the bridge.", ("Ana Costa",)),
         ("Costa said it cost 450 million euros.", ("Costa",)),
         ("The mayor thanked the workers.", ())]
    c = [("Fruit sales rose in the United States.", ("United States|GPE",)), ("", ()),
         ("Prices fell in Lisbon.", ("Lisbon|ORG",))]
    out = []
    for doc, items in (("a.txt", a), ("b.txt", b), ("c.txt", c)):
        out += [_sentence(doc, i, t, p) for i, (t, p) in enumerate(items)]
    return out


def _snapshot(sentences: list[Sentence], embedder: Any = None) -> IndexSnapshot:
    """``sentences`` as an index: each document's text is its sentences joined by spaces (their
    offsets set to match), vectors from ``embedder`` (random without one)."""
    texts: dict[str, str] = {}
    placed = []
    for s in sentences:
        start = len(texts.get(s.doc_id, ""))
        texts[s.doc_id] = texts.get(s.doc_id, "") + s.text + " "
        placed.append(replace(s, start=start, end=start + len(s.text)))
    docs = [Document(d, t, d, "h", d) for d, t in texts.items()]
    if embedder is not None:
        vectors = embedder.embed([s.text for s in placed])
    else:
        vectors = np.random.default_rng(0).normal(size=(len(placed), 384)).astype(np.float32)
    return snapshot_from_rows(docs, placed, vectors)


def _context(sentences: list[Sentence]) -> SentenceContext:
    snap = _snapshot(sentences)
    return SentenceContext(snap.sentences, snap.terms)


# by hand: Velden is named 3 times in a.txt (its main actor); Costa twice in b.txt (none)
PEOPLE = {"a.txt": {"velden": "Mara Velden", "brand": "Tomas Brand"}, "b.txt": {"costa": "Ana Costa"}}
SALIENT = {"a.txt": "Mara Velden"}
# rows of a.txt that match its main actor: named (0, 2, 4) or referred to by role / pronoun (1, 3)
NAMED, REFERRED = {0, 2, 4}, {1, 3}


def test_the_context_reads_the_facts_the_cache_build_computed() -> None:
    ctx = _context(_corpus())
    sentences = _corpus()
    assert ctx.rows._ranged  # the table's ranges, not a grouping pass
    for i in reversed(range(len(sentences))):  # any order of first reads gives the same values
        text = sentences[i].text
        assert ctx.terms[i] == set(content_terms(text)), i
        plain = set(content_terms(text)) | set(words(text))
        extra = {SALIENT_KEY} if i in NAMED else {"velden", SALIENT_KEY} if i in REFERRED else set()
        assert ctx.names[i] == plain | extra, i
    for d in ("a.txt", "b.txt", "c.txt", "no-such-doc"):
        assert ctx.person_names.get(d, {}) == PEOPLE.get(d, {}), d
        assert ctx.salient_name.get(d, "") == SALIENT.get(d, ""), d
    n = len(sentences)  # 12
    assert ctx.default_idf == math.log(1 + n)
    assert ctx.idf["velden"] == math.log(1 + n / 3)  # rows 0, 2, 4
    assert ctx.idf["lisbon"] == math.log(1 + n / 2)  # a.txt row 0, c.txt row 2
    assert ctx.idf[content_terms("bridge")[0]] == math.log(1 + n / 1)
    assert ctx.corpus_terms == set().union(*(content_terms(s.text) for s in sentences))
    assert set(ctx.corpus_names) == set().union(*(ctx.names[i] for i in range(n)))
    assert {"velden", SALIENT_KEY, "costa", "fruit"} <= ctx.corpus_names
    assert ctx.in_corpus(("nobody", "costa")) and not ctx.in_corpus(("nobody",))


def test_speakers_and_entity_labels() -> None:
    ctx = _context(_corpus())
    assert ctx.sayers(1) == {"velden"}  # "The president said": the main actor
    assert ctx.sayers(2) == {"velden"}  # named, and "she" next to "added"
    assert ctx.sayers(3) == set() and ctx.sayers(4) == set()  # no verb of saying
    assert ctx.sayers(7) == {"costa"}  # b.txt row 1: "Costa said"
    assert ctx.sayers(8) == set()  # no main actor in b.txt
    assert ctx.role_refers_to_salient(1) == "Mara Velden" and ctx.role_refers_to_salient(8) == ""
    assert ctx.labels_of({"lisbon"}) == {"GPE", "ORG"}  # a place in a.txt, tagged ORG in c.txt
    assert ctx.labels_of(set(entity_keys("United States"))) == {"GPE"}
    assert ctx.labels_of(set(entity_keys("Ana Costa"))) == {"PERSON"}
    assert ctx.labels_of({"nobody"}) == set()
    assert {"lisbon", "costa", "velden"} <= set(ctx.entity_names)


def test_rows_are_stored_in_document_order_whatever_order_they_are_given() -> None:
    """The cache keeps a document's rows together (``SentenceTable.doc_range``): a list given
    in another order is stored sorted, so its facts are the same."""
    sentences = _corpus()
    ordered, interleaved = _snapshot(sentences), _snapshot(sentences[::2] + sentences[1::2])
    want = [(s.key, s.text, s.entities) for s in sentences]
    for snap in (ordered, interleaved):  # (the helper gives the documents' texts in another order)
        assert [(s.key, s.text, s.entities) for s in snap.sentences] == want
    ctx = SentenceContext(interleaved.sentences, interleaved.terms)
    assert ctx.person_names.get("a.txt") == PEOPLE["a.txt"]
    three = "She spoke for an hour."
    assert ctx.names[3] == set(content_terms(three)) | set(words(three)) | {"velden", SALIENT_KEY}


def test_a_snapshot_from_rows_checks_its_rows_and_removes_its_folder() -> None:
    doc = Document("d.txt", "One sentence here.", "d.txt")
    with pytest.raises(ValueError, match="text"):
        snapshot_from_rows([doc], [Sentence("d.txt", 0, "Another one.", 0, 12)], np.zeros((1, 384)))
    with pytest.raises(ValueError, match="no given document"):
        snapshot_from_rows([doc], [Sentence("e.txt", 0, "One", 0, 3)], np.zeros((1, 384)))
    snap = snapshot_from_rows({doc.doc_id: doc}, [Sentence("d.txt", 0, "One sentence here.", 0, 18)],
                              np.ones((1, 384)))
    assert snap.sentences.temporary is not None
    root = snap.sentences.temporary.root
    terms = snap.terms  # a table alone holds the folder too
    del snap
    gc.collect()
    assert root.is_dir() and terms.corpus_names() >= {"sentence"}
    del terms
    gc.collect()
    assert not root.exists()


def test_document_words_are_stored() -> None:
    from assistant.language.check import document_words

    snap = _snapshot(_corpus())
    assert snap.documents.words() == document_words([snap.documents[d].text for d in snap.documents])


def test_document_rows_from_the_table_and_from_a_list() -> None:
    sentences = _corpus()
    snap = _snapshot(sentences)
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
    from assistant import Assistant
    from assistant.core.settings import Settings

    settings = replace(Settings.from_env(), index_dir=tmp_path / "unused")
    bot = Assistant(settings, snapshot=_snapshot(_corpus(), fake_embedder), embedder=fake_embedder)
    a = bot.ask("Who opened the bridge?", doc_ids=doc_ids)
    assert "Ana Costa" in a.text and not a.refused
    b = bot.ask("Who met the ministers?", doc_ids=doc_ids)
    assert b.refused == (doc_ids is not None)


def test_follow_up_lookup_finds_what_the_scan_finds() -> None:
    """``followup_lookup`` (large corpora) gives ``resolve`` the same quoted sentences and the
    same person words as reading every allowed sentence."""
    from assistant.core.types import Message
    from assistant.language.conversation import _cited_sentences, resolve
    from assistant.language.text import fold
    from assistant.retrieval.bm25_mmap import SavedBM25
    from assistant.retrieval.followup_lookup import FollowUpLookup

    snap = _snapshot(_corpus())
    table = snap.sentences
    lookup = FollowUpLookup(table, SavedBM25(snap.bm25_dir), snap.documents.person_words(), table.doc_starts)
    answers = [
        "Ana Costa [1]. Ana Costa opened the bridge. [1] Costa said it cost 450 million euros. [2]",
        "The president said the ferries would run [1].",
        "Velden met the ministers in Lisbon and was confident.",  # overlap, no exact quote
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
        for word in ("velden", "costa", "ana", "brand", "lisbon", "nobody"):
            assert bound.is_person_word(word) == (word in people), (word, allowed)
        for answer in answers:
            history = [Message("user", "Who opened the bridge?"), Message("assistant", answer)]
            for q in ("What did he say next?", "And Velden?", "Where did she go?"):
                assert resolve(q, history, rows, bound) == resolve(q, history, rows), (q, answer)


def test_a_question_reads_a_few_rows_not_the_corpus(tmp_path: Any, fake_embedder: Any) -> None:
    """Over the query cache, answering (first question, a document filter, a follow-up) turns
    only a few rows into ``Sentence`` objects, however many there are: nothing on the question
    path reads every sentence (issue #13). One document is large on purpose (a book)."""
    from assistant import Assistant
    from assistant.core.settings import Settings

    filler = [_sentence("big.txt", i, f"Section {i} describes the harbour works of year {1900 + i}.")
              for i in range(1500)]
    sentences = sorted(_corpus() + filler, key=lambda s: (s.doc_id, s.sentence_id))
    snap = _snapshot(sentences, fake_embedder)  # the cache's rows are in this order too
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
