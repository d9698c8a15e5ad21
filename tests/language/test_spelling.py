"""Names spelt one letter off from the documents' spelling (texts of our own)."""

from __future__ import annotations

from assistant.language.question import analyze
from assistant.language.spelling import documents_spelling, one_edit_apart, respell_names


def test_one_edit() -> None:
    assert one_edit_apart("karlsson", "karlson") and one_edit_apart("otieno", "ottieno")
    assert one_edit_apart("ndlovuu", "ndlovu")
    assert not one_edit_apart("otieno", "otieno") and not one_edit_apart("austria", "australia")
    assert not one_edit_apart("marion", "mairon")  # a transposition is two edits here


def test_only_long_unknown_names_with_one_close_match_are_respelt() -> None:
    names = {"ottieno", "mwangi", "iraq", "karlsson", "karlsen"}
    assert documents_spelling("otieno", names) == "ottieno"
    assert documents_spelling("iran", names) == ""  # too short to tell
    assert documents_spelling("karlson", names) == ""  # two names as close: ambiguous
    assert documents_spelling("mwangi", names) == ""  # already the documents' spelling
    assert documents_spelling("otieno", names, known={"otieno"}) == ""  # a word the documents hold


def test_the_question_takes_the_documents_spelling() -> None:
    info = respell_names(analyze("Did Otieno meet the mayor?"), {"mayor"}, lambda: {"ottieno"})
    assert ("ottieno",) in info.entity_keys
    assert respell_names(analyze("Did Lisbon vote?"), set(), lambda: {"ottieno"}).entity_keys == analyze(
        "Did Lisbon vote?").entity_keys

    def no_table() -> set[str]:
        raise AssertionError("the name table is not needed when every name is known")

    assert respell_names(analyze("Did Ottieno vote?"), {"ottieno", "vote"}, no_table)
