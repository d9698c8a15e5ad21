"""Hostile input never crashes ``ask()`` or the loaders (issue 12), and filters and follow-ups hold
(issue 14 items 1 and 5).

Every case of ``tests/hostile_cases.py`` (276 questions, 36 files) runs as its own test against
the article and a small second document held in memory (real splitter, spaCy entities and the
NumPy MiniLM; no Chroma), so the module takes well under a minute. The targeted tests below
pin the behaviour each fix introduced, on inputs that crashed or misled before.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hostile_cases import (
    AID_HISTORY,
    BASE,
    FileCase,
    QuestionCase,
    build_assistant,
    file_cases,
    question_cases,
    run_file,
    run_question,
)

from assistant import Answer, Assistant
from assistant.core.errors import IngestError
from ingest.loaders import load_bytes

QUESTIONS = question_cases()
with tempfile.TemporaryDirectory() as _tmp:
    FILE_NAMES = [c.name for c in file_cases(Path(_tmp))]


@pytest.fixture(scope="module")
def bot() -> Assistant:
    return build_assistant()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileCase]:
    return {c.name: c for c in file_cases(tmp_path_factory.mktemp("hostile-files"))}


def test_the_campaign_is_big_enough() -> None:
    assert len(QUESTIONS) >= 200 and len(FILE_NAMES) >= 30
    assert len({(c.category, c.name) for c in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("case", QUESTIONS, ids=[f"{c.category}/{c.name}" for c in QUESTIONS])
def test_hostile_question_is_handled(bot: Assistant, case: QuestionCase) -> None:
    outcome, detail = run_question(bot, case)
    assert outcome == "handled", detail


@pytest.mark.parametrize("name", FILE_NAMES)
def test_hostile_file_is_handled(files: dict[str, FileCase], name: str) -> None:
    outcome, detail = run_file(files[name])
    assert outcome == "handled", detail


# -- item by item ---------------------------------------------------------------------------------
def _same(a: Answer, b: Answer) -> bool:
    return (a.text, a.refused, a.citations) == (b.text, b.refused, b.citations)


@pytest.mark.parametrize("follow_up", ["And \\2?", "And \\g<zz>?", "What about \\d?", "And \\q?"])
def test_backslash_in_a_follow_up_is_text_not_a_template(bot: Assistant, follow_up: str) -> None:
    answer = bot.ask(follow_up, AID_HISTORY)
    backslashed = follow_up.split(" ")[-1].rstrip("?")
    assert backslashed in answer.standalone_question, answer.standalone_question


def test_lone_surrogates_are_dropped_not_fatal(bot: Assistant) -> None:
    plain = bot.ask(BASE)
    for noisy in (BASE + "\udc80", "\ud800" + BASE, BASE.replace(" ", " \udcff ")):
        assert _same(bot.ask(noisy), plain)


def test_embedder_accepts_lone_surrogates() -> None:
    from assistant.retrieval.embedder import get_query_embedder

    embedder = get_query_embedder()
    vecs = embedder.embed(["meeting \udc80 held", "meeting \ufffd held"])
    assert vecs.shape == (2, 384) and float(vecs[0] @ vecs[1]) > 0.9999


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"top_k": "8"}, ("top_k", "'8'")),
    ({"top_k": 0}, ("top_k", "0")),
    ({"top_k": True}, ("top_k", "True")),
    ({"doc_ids": "article.txt"}, ("doc_ids", "article.txt")),
    ({"doc_ids": [42]}, ("doc_ids", "42")),
    ({"backend": "LLM"}, ("backend", "'LLM'")),
    ({"backend": 1}, ("backend", "1")),
])
def test_bad_arguments_get_a_message_naming_the_value(bot: Assistant, kwargs: dict[str, Any],
                                                      named: tuple[str, str]) -> None:
    answer = bot.ask(BASE, **kwargs)
    assert answer.refused and not answer.citations and answer.kind == "invalid"
    assert all(part in answer.error for part in named), answer.error
    assert "\n" not in answer.error


def test_slider_floats_are_whole_numbers(bot: Assistant) -> None:
    assert _same(bot.ask(BASE, top_k=8.0), bot.ask(BASE, top_k=8))


def test_fullwidth_and_math_letters_are_the_plain_question(bot: Assistant) -> None:
    plain = bot.ask(BASE)
    for styled in ("Ｗｈｅｒｅ ｗａｓ ｔｈｅ ｍｅｅｔｉｎｇ ｈｅｌｄ？", "𝐖𝐡𝐞𝐫𝐞 𝐰𝐚𝐬 𝐭𝐡𝐞 𝐦𝐞𝐞𝐭𝐢𝐧𝐠 𝐡𝐞𝐥𝐝?"):
        answer = bot.ask(styled)
        assert _same(answer, plain), answer.text
        assert answer.question == styled  # shown as typed; answered normalised


@pytest.mark.parametrize(("question", "says"), [
    ("Где проходила встреча?", "Cyrillic"),
    ("会议在哪里举行？", "CJK"),
    ("أين عقد الاجتماع؟", "Arabic"),
    ("¿Dónde se celebró la reunión?", "doesn't read as English"),
])
def test_other_languages_are_refused_saying_the_documents_are_english(bot: Assistant, question: str,
                                                                     says: str) -> None:
    answer = bot.ask(question)
    assert answer.refused and not answer.citations and not answer.related
    assert says in answer.text and "English" in answer.text
    assert answer.question == question and not answer.error


@pytest.mark.parametrize("question", ["the the the the the", "and and and and", "(a+)+$",
                                      "the of and to in", "asdf qwer zxcv uiop"])
def test_nonsense_is_refused_with_a_reason(bot: Assistant, question: str) -> None:
    answer = bot.ask(question)
    assert answer.refused and not answer.citations and answer.kind == "unreadable", answer.text
    assert "question" in answer.text.lower()


def test_english_with_typos_and_names_is_still_answered(bot: Assistant) -> None:
    for question in ("whats the numbr of countrys sending troops", "Who is Ellen Park?",
                     "How long will the tram line be?"):
        answer = bot.ask(question)
        assert answer.kind != "unreadable", (question, answer.text)


def test_a_huge_history_turn_is_refused_fast(bot: Assistant) -> None:
    history = [AID_HISTORY[0], {"role": "assistant", "content": "Europe gave aid. " * 120_000}]
    t0 = time.perf_counter()
    answer = bot.ask("And the Americans?", history)
    assert time.perf_counter() - t0 < 1.0
    assert answer.refused and "conversation" in answer.error and "50,000" in answer.error


def test_only_the_latest_messages_are_used(bot: Assistant) -> None:
    old = [{"role": ("user", "assistant")[i % 2], "content": f"Filler turn {i}"} for i in range(10_000)]
    assert _same(bot.ask("And the Americans?", old + AID_HISTORY), bot.ask("And the Americans?", AID_HISTORY))


def test_filter_holds_through_a_follow_up(bot: Assistant) -> None:
    """Issue 14 item 1: the follow-up used to be answered "Paris [1]" from article.txt."""
    first = bot.ask("Where was the meeting of the coalition held?")
    assert not first.refused and {c.doc_id for c in first.citations} == {"article.txt"}
    history = [{"role": "user", "content": "Where was the meeting of the coalition held?"},
               {"role": "assistant", "content": first.text}]
    for follow_up in ("Where was the meeting held?", "What did he say next?", "And the Americans?"):
        answer = bot.ask(follow_up, history, doc_ids=["tram_news.txt"])
        assert {c.doc_id for c in [*answer.citations, *answer.related]} <= {"tram_news.txt"}, answer
        if answer.refused:
            assert "filter is on" in answer.text and "tram_news.txt" in answer.text


def test_refusal_under_a_filter_says_the_filter_is_on(bot: Assistant) -> None:
    answer = bot.ask("Where was the meeting held?", doc_ids=["tram_news.txt"])
    assert answer.refused and "filter is on" in answer.text and "tram_news.txt" in answer.text
    unfiltered = bot.ask("Where was the meeting held?")
    assert "filter" not in unfiltered.text


def test_filter_still_answers_from_the_chosen_document(bot: Assistant) -> None:
    answer = bot.ask("Who is the mayor?", doc_ids=["tram_news.txt"])
    assert not answer.refused and "Ellen Park" in answer.text
    assert {c.doc_id for c in answer.citations} == {"tram_news.txt"}


@pytest.mark.parametrize("question", ["What did he say next?", "What did she clarify?", "And the Americans?",
                                      "What else?", "Where was it held?", "What happened after that?"])
def test_a_follow_up_on_an_empty_chat_asks_what_it_refers_to(bot: Assistant, question: str) -> None:
    """Issue 14 item 5: it used to answer with an arbitrary sentence."""
    answer = bot.ask(question, [])
    assert answer.refused and not answer.citations and "refer" in answer.text, answer.text


@pytest.mark.parametrize("question", ["When is the next meeting?", "How many more troops will be sent?",
                                      "What did the mayor say about his plan?",
                                      "In what way has he confirmed his support for the tram line plan?",
                                      "Who gave their name to the tram line?"])
def test_standalone_questions_with_pronouns_are_not_follow_ups(bot: Assistant, question: str) -> None:
    assert bot.ask(question, []).kind != "follow_up"


def test_utf16_with_bom_is_text() -> None:
    text = "The council met on Monday.\n"
    for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be"), text.encode("utf-32")):
        assert load_bytes(data, Path("u.txt")).text == text
    with pytest.raises(IngestError, match="NUL"):
        load_bytes(text.encode("utf-16-le"), Path("no-bom.txt"))  # no BOM: binary, as before
