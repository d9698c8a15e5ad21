"""The sentence splitter on the real article and on hand-made cases, with exact boundaries."""

from __future__ import annotations

import pytest

from ingest.sentences import split_sentences


def texts(text: str) -> list[str]:
    out = split_sentences(text)
    for s in out:
        assert text[s.start : s.end] == s.text
    return [s.text for s in out]


def test_offsets_are_exact_on_the_article(article_text: str) -> None:
    sents = split_sentences(article_text, "article.txt")
    assert len(sents) == 38
    for i, s in enumerate(sents):
        assert article_text[s.start : s.end] == s.text
        assert s.sentence_id == i
        assert s.text == s.text.strip()
    assert [s.start for s in sents] == sorted(s.start for s in sents)


def test_headings_are_their_own_units(article_text: str) -> None:
    sents = split_sentences(article_text)
    headings = [s.text for s in sents if s.is_heading]
    assert headings == ["More pressure on Russia", "Headquarters in Paris"]


def test_quote_with_attribution_stays_one_sentence(article_text: str) -> None:
    got = texts(article_text)
    assert (
        "“These three countries are part of the taxpayers, each in their own way,” Macron announced." in got
    )
    assert (
        "“This force does not intend or the goal of fighting any war against Russia,” "
        "said the French president."
    ) in got


def test_quote_ending_a_sentence_is_split_from_the_next_one(article_text: str) -> None:
    got = texts(article_text)
    assert "That long twenty nations would be “present in land, sea or air.”" in got
    assert "Always with military infrastructure." in got


def test_fragment_starting_with_punctuation(article_text: str) -> None:
    got = texts(article_text)
    frag = [t for t in got if t.startswith(", he has confirmed")]
    assert len(frag) == 1 and frag[0].endswith("when a peace agreement is reached.")
    assert got[0].endswith("Volodimir Zelenski was also present.")


def test_numbers_are_not_boundaries(article_text: str) -> None:
    got = texts(article_text)
    assert any(
        t.startswith("as USA asked for June 30, Europeans had provided kyiv 167,000 million euros")
        and t.endswith("about 115,000 million.")
        for t in got
    )
    assert texts("Growth was 1.5 percent. Prices rose 2.25 points.") == [
        "Growth was 1.5 percent.",
        "Prices rose 2.25 points.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. Army arrived. Mr. Smith left.", ["The U.S. Army arrived.", "Mr. Smith left."]),
        ("Bring tools, e.g. hammers. Then go.", ["Bring tools, e.g. hammers.", "Then go."]),
        ("“We will win.” He smiled.", ["“We will win.”", "He smiled."]),
        (
            "“We will win.” the minister said. Then he left.",
            ["“We will win.” the minister said.", "Then he left."],
        ),
        ("Is it over? No! It goes on.", ["Is it over?", "No!", "It goes on."]),
        ("J. R. Tolkien wrote books. They sold.", ["J. R. Tolkien wrote books.", "They sold."]),
    ],
)
def test_hand_made_cases(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_blank_lines_and_headings() -> None:
    text = "Title Here\n\nFirst para ends. Second sentence.\n\n\nSub heading\nMore text here."
    got = split_sentences(text)
    assert [s.text for s in got] == [
        "Title Here",
        "First para ends.",
        "Second sentence.",
        "Sub heading",
        "More text here.",
    ]
    assert [s.is_heading for s in got] == [True, False, False, True, False]


def test_hard_wrapped_paragraph_is_joined() -> None:
    text = (
        "This is a long paragraph that was wrapped by an editor at a fixed width so\n"
        "it continues on the next line. A second sentence follows.\n"
    )
    got = texts(text)
    assert got[0].startswith("This is a long paragraph") and got[0].endswith("next line.")
    assert got[1] == "A second sentence follows."


def test_empty_text() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n ") == []


# -- list items ----------------------------------------------------------------------------------
# Invented texts: each item is its own sentence, without its bullet or number.


@pytest.mark.parametrize("marker", ["- ", "• ", "•", "* ", "+ ", "– ", "▪ ", "1. ", "1) ", "(1) "])
def test_every_bullet_glyph_makes_items(marker: str) -> None:
    numbered = marker.strip("() ").rstrip(".)").isdigit()
    second = marker.replace("1", "2") if numbered else marker
    text = f"Bring these:\n{marker}a lantern with spare oil\n{second}a rope of ten metres\n"
    assert texts(text) == ["Bring these:", "a lantern with spare oil", "a rope of ten metres"]


def test_list_of_six_items_is_six_sentences_not_one() -> None:
    items = [
        "The orchard opens at dawn for members",
        "Visitors pay four coins at the gate",
        "Dogs stay on a short lead near the hives",
        "The cider press runs only on Saturdays",
        "Children under ten need an adult with them",
        "Lost keys are kept at the tool shed",
    ]
    text = "Rules of the Hollow Lane orchard:\n" + "".join(f"- {i}\n" for i in items) + "Enjoy it."
    got = split_sentences(text)
    assert [s.text for s in got] == ["Rules of the Hollow Lane orchard:", *items, "Enjoy it."]
    for s in got:
        assert text[s.start : s.end] == s.text and not s.is_heading
    assert len({s.paragraph for s in got}) == len(got)


def test_item_with_two_sentences_is_split_inside() -> None:
    assert texts("Steps:\n1. Fill the kettle. Wait for it to boil.\n2. Pour slowly.") == [
        "Steps:",
        "Fill the kettle.",
        "Wait for it to boil.",
        "Pour slowly.",
    ]


def test_wrapped_item_and_paragraph_after_the_list() -> None:
    text = (
        "* a very long item that an editor wrapped at a fixed width so that\n"
        "  it continues on an indented line\n"
        "* a short one\n"
        "The paragraph after the list starts here.\n"
    )
    assert texts(text) == [
        "a very long item that an editor wrapped at a fixed width so that\n"
        "  it continues on an indented line",
        "a short one",
        "The paragraph after the list starts here.",
    ]


def test_bullet_alone_on_its_line_marks_the_next_line() -> None:
    assert texts("Menu\n•\nRoasted beets\n•\n\nBarley soup\n") == ["Menu", "Roasted beets", "Barley soup"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the gauge read\n-5 degrees at noon.", ["the gauge read\n-5 degrees at noon."]),
        ("*Bold claim* is made here.", ["*Bold claim* is made here."]),
        ("prices rose in\n2020. Then they fell.", ["prices rose in\n2020.", "Then they fell."]),
        ("A first part.\n\n* * *\n\nA second part.", ["A first part.", "* * *", "A second part."]),
    ],
)
def test_lines_that_are_not_items(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_numbered_item_is_not_a_heading() -> None:
    got = split_sentences("1. Short first point\n2. Short second point\nBody text follows here.")
    assert [(s.text, s.is_heading) for s in got] == [
        ("Short first point", False),
        ("Short second point", False),
        ("Body text follows here.", False),
    ]
