"""The web chat in a real headless Chromium: ask, see evidence, upload a file, ask about it.

Runs the page over the session's real article index. The uploaded file is deleted from that
index afterwards so later tests see only the article. Screenshots go to tests/artifacts/;
set UPDATE_DOCS_SCREENSHOT=1 to refresh docs/screenshot.png from the answered page.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
DOCS_SHOT = PROJECT_ROOT / "docs" / "screenshot.png"
UPLOAD_NAME = "quillford_notes.txt"
UPLOAD_TEXT = ("Quillford is a small harbour town. The Zorblax lantern festival in Quillford was founded "
               "in 1952 by a baker named Edna Marsh. It takes place every spring.\n")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1440,1000")
WAIT_S = 60
# True when the active highlight lies inside the visible part of the source panel's scroll box.
IN_VIEW_JS = """
const box = document.getElementById('dq-source-body');
const mark = box && box.querySelector('mark.dq-active');
if (!mark) return false;
const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
return m.top >= b.top - 1 && m.top < b.bottom - 10;
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app_url(real_assistant: Any) -> Iterator[str]:
    """The page over the real index on a free loopback port; removes the test upload afterwards."""
    from ingest.pipeline import Ingestor
    from ui.app import build_app
    from ui.style import launch_options

    ingestor = Ingestor(real_assistant.settings)
    app = build_app(real_assistant, ingestor)
    port = _free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                       **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
        if UPLOAD_NAME in real_assistant.documents:
            ingestor.delete(UPLOAD_NAME)
            real_assistant.reload()


@pytest.fixture
def driver() -> Iterator[Any]:
    """Headless Chromium through Debian's chromedriver; skips when either is missing."""
    if not (shutil.which("chromium") or os.path.exists(CHROMIUM)) or not os.path.exists(CHROMEDRIVER):
        pytest.skip("chromium and chromium-driver are not installed "
                    "(apt-get install chromium chromium-driver, or `make browser` as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="docqa-chrome-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": 1440, "height": 960, "deviceScaleFactor": 1, "mobile": False})
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(drv: Any, cond: Callable[[Any], Any], what: str, timeout: float = WAIT_S) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(drv, timeout, poll_frequency=0.2).until(cond)
    except TimeoutException:
        _shot(drv, "timeout")
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def _shot(drv: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    drv.save_screenshot(str(path))
    return path


def _css(drv: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return drv.find_elements(By.CSS_SELECTOR, selector)


def _open(drv: Any, url: str) -> None:
    drv.get(url)
    _wait(drv, lambda d: d.execute_script("return document.readyState") == "complete", "page load")
    _wait(drv, lambda d: [e for e in _css(d, "#dq-question textarea") if e.is_displayed()], "question box")


def _ask(drv: Any, question: str) -> Any:
    """Type a question, submit it and return the finished answer element."""
    done_before = len(_css(drv, "#dq-chat .dq-answer.dq-done"))
    box = _css(drv, "#dq-question textarea")[0]
    box.clear()
    box.send_keys(question)
    _css(drv, "#dq-send")[0].click()
    _wait(drv, lambda d: len(_css(d, "#dq-chat .dq-answer.dq-done")) > done_before,
          f"an answer to {question!r}")
    time.sleep(0.5)  # the evidence panel updates in the same event; let the scroll script run
    return _css(drv, "#dq-chat .dq-answer.dq-done")[-1]


def _tab(drv: Any, name: str) -> None:
    tabs = [b for b in _css(drv, "button[role=tab]") if b.text.strip() == name]
    assert tabs, f"no {name!r} tab"
    tabs[0].click()


def _outside_requests(drv: Any) -> list[str]:
    return drv.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                              ".filter(n => !n.startsWith(location.origin) && !n.startsWith('data:')"
                              " && !n.startsWith('blob:'))")


def test_ask_shows_answer_citation_cards_and_highlight(app_url: str, driver: Any) -> None:
    _open(driver, app_url)
    _shot(driver, "01-empty")
    answer = _ask(driver, "Where was the meeting held?")
    text = answer.find_element("css selector", ".dq-text").text
    assert "Paris" in text, text
    cards = answer.find_elements("css selector", ".dq-card")
    assert cards, "no citation card under the answer"
    assert "article" in cards[0].text and "chars" in cards[0].text
    marks = _css(driver, "#dq-source-panel mark.dq-mark")
    assert marks and marks[0].is_displayed(), "no highlighted sentence in the source panel"
    assert marks[0].text.strip()[2:].strip() in cards[0].text  # the marked sentence is the quoted one
    assert "<mark" not in answer.get_attribute("innerHTML").lower()
    shot = _shot(driver, "02-answer")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        DOCS_SHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS_SHOT)
    assert _outside_requests(driver) == [], "the page fetched something from outside"


def test_refusal_is_amber_with_related_sentences_and_citation_choice(app_url: str, driver: Any) -> None:
    _open(driver, app_url)
    example = [b for b in _css(driver, "#dq-examples button") if "Brazil" in b.text]
    assert example, "the example questions are missing"
    example[0].click()
    _wait(driver, lambda d: _css(d, "#dq-chat .dq-answer.dq-done"), "the refusal")
    time.sleep(0.5)
    answer = _css(driver, "#dq-chat .dq-answer.dq-done")[-1]
    assert "dq-refused" in answer.get_attribute("class")
    assert "The documents don't say" in answer.text and "Sources" not in answer.text
    color = answer.value_of_css_property("background-color")
    assert color not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), color  # visibly not a normal answer
    related = answer.find_elements("css selector", ".dq-card.dq-related")
    if len(related) >= 2:  # the answerer found nearby sentences: choosing one marks it in the source
        options = _css(driver, "#dq-cite-pick label")
        assert options and options[0].text.startswith("related")
        options[1].click()
        _wait(driver, lambda d: [m for m in _css(d, "#dq-source-panel mark.dq-active")
                                 if m.get_attribute("data-n") == "2"], "the chosen related sentence")
        assert "dq-mark-related" in _css(driver, "#dq-source-panel mark.dq-active")[0].get_attribute("class")
        _wait(driver, lambda d: d.execute_script(IN_VIEW_JS), "the chosen sentence scrolled into view", 10)
    _shot(driver, "05-refusal")


def test_question_with_markup_is_shown_as_text(app_url: str, driver: Any) -> None:
    _open(driver, app_url)
    _ask(driver, "<script>window.pwned=1</script><b>bold</b>?")
    assert driver.execute_script("return window.pwned === undefined")
    assert not [b for b in _css(driver, "#dq-chat b") if "bold" in b.text]
    assert "<script>window.pwned=1</script>" in _css(driver, "#dq-chat")[0].text


def test_upload_a_file_then_ask_about_it(app_url: str, driver: Any, tmp_path: Path) -> None:
    _open(driver, app_url)
    _tab(driver, "Documents")
    path = tmp_path / UPLOAD_NAME
    path.write_text(UPLOAD_TEXT, encoding="utf-8")
    file_input = _wait(driver, lambda d: _css(d, "#dq-upload input[type=file]"), "the file input")[0]
    file_input.send_keys(str(path))
    status = _wait(driver, lambda d: [e for e in _css(d, "#dq-upload-status li") if e.text], "upload summary")
    assert "added" in status[0].text and UPLOAD_NAME in status[0].text, status[0].text
    _wait(driver, lambda d: UPLOAD_NAME in _css(d, "#dq-docs-list")[0].text, "the documents list update")
    _shot(driver, "03-uploaded")
    _tab(driver, "Evidence")
    answer = _ask(driver, "Who founded the Zorblax lantern festival?")
    assert "Edna Marsh" in answer.text, answer.text
    assert any("quillford_notes" in c.text for c in answer.find_elements("css selector", ".dq-card"))
    _wait(driver, lambda d: _css(d, "#dq-source-panel mark.dq-mark"), "a highlight in the uploaded file")
    assert "Edna Marsh" in _css(driver, "#dq-source-panel mark.dq-mark")[0].text
    _shot(driver, "04-uploaded-answer")
