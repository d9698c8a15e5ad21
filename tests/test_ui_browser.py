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
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
DOCS_SHOT = PROJECT_ROOT / "docs" / "screenshot.png"
DOCS = PROJECT_ROOT / "docs"
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


@pytest.fixture(scope="module")
def app_url(real_assistant: Any) -> Iterator[str]:
    """The page over the real index on a free loopback port, shared by this module's tests
    (each browser is its own visitor); every browser upload is removed afterwards."""
    from ingest.pipeline import Ingestor
    from ui.app import build_app
    from ui.style import launch_options

    app = build_app(real_assistant, Ingestor(real_assistant.settings))
    port = _free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                       **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
        app.library.close()
        app.library.purge_orphans()


def _chrome(width: int = 1440, height: int = 960, mobile: bool = False) -> tuple[Any, str]:
    """A headless Chromium with a profile of its own (its own storage: another visitor)."""
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
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    return drv, profile


@pytest.fixture
def driver() -> Iterator[Any]:
    """Headless Chromium through Debian's chromedriver; skips when either is missing."""
    drv, profile = _chrome()
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


def _keep_for_docs(shot: Path, name: str) -> None:
    """With UPDATE_DOCS_SCREENSHOT=1, the README's pictures are refreshed from this run."""
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        DOCS.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS / name)


def _css(drv: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return drv.find_elements(By.CSS_SELECTOR, selector)


def _open(drv: Any, url: str) -> None:
    drv.get(url)
    _wait(drv, lambda d: d.execute_script("return document.readyState") == "complete", "page load")
    _wait(drv, lambda d: [e for e in _css(d, "#dq-question textarea") if e.is_displayed()], "question box")
    _wait(drv, lambda d: _css(d, "#dq-source-panel .dq-source-head"), "the documents read on page load")


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


def _copied(drv: Any) -> list[str]:
    return drv.execute_script("return window.dqCopied || []")


def _spy_clipboard(drv: Any) -> None:
    drv.execute_script("window.dqCopied = []; navigator.clipboard.writeText = "
                       "t => { window.dqCopied.push(t); return Promise.resolve(); }")


def _active_mark(drv: Any, kind: str = "") -> str | None:
    """The number of the chosen sentence in the source panel (read in one step: the panel
    re-renders under the test); ``kind`` "source"/"related" requires that kind of mark."""
    return drv.execute_script(
        "const m = document.querySelector('#dq-source-panel mark.dq-active' + arguments[0]);"
        "return m ? m.getAttribute('data-n') : null;", f".dq-mark-{kind}" if kind else "")


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
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).move_to_element(_css(driver, "#dq-header")[0]).perform()  # no hover in the picture
    shot = _shot(driver, "02-answer")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT"):
        DOCS_SHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS_SHOT)
    assert _outside_requests(driver) == [], "the page fetched something from outside"


def test_copy_gives_the_answer_with_its_sources_not_html(app_url: str, driver: Any) -> None:
    """Issue 14 item 3: the copy control gives Markdown text with the cited sentences."""
    _open(driver, app_url)
    answer = _ask(driver, "How many countries agreed to send troops?")
    _spy_clipboard(driver)
    answer.find_element("css selector", "a.dq-copy").click()
    _wait(driver, lambda d: _copied(d), "the copied text", 10)
    copied = _copied(driver)[0]
    assert "<" not in copied and "dq-answer" not in copied, copied
    assert "26" in copied and "Sources:\n[1] article, sentence" in copied, copied
    assert "Copied" in answer.find_element("css selector", "a.dq-copy").text
    assert not _css(driver, "#dq-chat button[title='Copy message']")  # the HTML-copying button is gone


def test_markers_and_cards_are_clickable_and_keyboard_reachable(app_url: str, driver: Any) -> None:
    """Issue 14 item 7: a click (or Enter) on [n] or a card marks that sentence in the source."""
    from selenium.webdriver.common.keys import Keys

    _open(driver, app_url)
    _ask(driver, "Where was the meeting held?")
    _ask(driver, "What is the population of Brazil?")
    related = _css(driver, "#dq-chat .dq-answer.dq-done")[-1].find_elements("css selector", "a.dq-card")
    if related:  # the answerer offered nearby sentences: each is a link too
        related[-1].send_keys(Keys.ENTER)
        n = str(len(related))
        _wait(driver, lambda d: _active_mark(d, "related") == n, "the related sentence chosen with Enter")
    marker = _css(driver, "#dq-chat .dq-answer.dq-done")[0].find_elements("css selector", "a.dq-ref")[0]
    driver.execute_script("arguments[0].focus()", marker)
    assert driver.switch_to.active_element == marker  # reachable from the keyboard
    marker.click()  # an earlier answer's marker brings back that answer's evidence
    _wait(driver, lambda d: _active_mark(d, "source") == "1", "the cited sentence")
    _wait(driver, lambda d: d.execute_script(IN_VIEW_JS), "the chosen sentence scrolled into view", 10)
    _shot(driver, "05-citation-click")


def test_refusal_is_amber_with_related_sentences(app_url: str, driver: Any) -> None:
    _open(driver, app_url)
    example = [b for b in _css(driver, "#dq-examples button") if "Brazil" in b.text]
    assert example, "the example questions are missing"
    example[0].click()
    _wait(driver, lambda d: _css(d, "#dq-chat .dq-answer.dq-done"), "the refusal")
    answer = _css(driver, "#dq-chat .dq-answer.dq-done")[-1]
    assert "dq-refused" in answer.get_attribute("class")
    assert "The documents don't say" in answer.text and "Sources" not in answer.text
    color = answer.value_of_css_property("background-color")
    assert color not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), color  # visibly not a normal answer
    _shot(driver, "05-refusal")


def test_question_with_markup_is_shown_as_text(app_url: str, driver: Any) -> None:
    _open(driver, app_url)
    _ask(driver, "<script>window.pwned=1</script><b>bold</b>?")
    assert driver.execute_script("return window.pwned === undefined")
    assert not [b for b in _css(driver, "#dq-chat b") if "bold" in b.text]
    assert "<script>window.pwned=1</script>" in _css(driver, "#dq-chat")[0].text


def _upload(drv: Any, path: Path) -> str:
    _tab(drv, "Documents")
    file_input = _wait(drv, lambda d: _css(d, "#dq-upload input[type=file]"), "the file input")[0]
    file_input.send_keys(str(path))
    finished = "#dq-upload-status li.dq-prog-done, #dq-upload-status li.dq-prog-failed"
    status = _wait(drv, lambda d: _css(d, finished), "upload summary")
    return status[0].text


def test_upload_is_listed_everywhere_kept_on_reload_private_and_deletable(app_url: str, driver: Any,
                                                                            tmp_path: Path) -> None:
    """Issue 14 items 2, 4 and 9: lists follow changes and reloads; uploads are per browser."""
    with warnings.catch_warnings(record=True) as caught:  # the server runs in this process
        warnings.simplefilter("always")
        _upload_flow(app_url, driver, tmp_path)
    stale = [str(w.message) for w in caught if "not in the list of choices" in str(w.message)]
    assert not stale, stale[:3]  # every selector value is one of its current choices


def _upload_flow(app_url: str, driver: Any, tmp_path: Path) -> None:
    _open(driver, app_url)
    path = tmp_path / UPLOAD_NAME
    path.write_text(UPLOAD_TEXT, encoding="utf-8")
    status = _upload(driver, path)
    assert "added" in status and UPLOAD_NAME in status, status
    assert len(_css(driver, "#dq-upload-status li")) == 1  # one progress line for one file
    _wait(driver, lambda d: UPLOAD_NAME in _css(d, "#dq-docs-list")[0].text, "the documents list update")
    _keep_for_docs(_shot(driver, "03-uploaded"), "screenshot-documents.png")
    driver.refresh()  # the lists are read again on load, and this browser keeps its upload
    _open(driver, app_url)
    _tab(driver, "Documents")
    _wait(driver, lambda d: UPLOAD_NAME in _css(d, "#dq-docs-list")[0].text, "the upload after a reload")
    assert "2 documents indexed" in _css(driver, "#dq-docs-list")[0].text
    _tab(driver, "Evidence")
    answer = _ask(driver, "Who founded the Zorblax lantern festival?")
    assert "Edna Marsh" in answer.text, answer.text
    assert any("quillford_notes" in c.text for c in answer.find_elements("css selector", ".dq-card"))
    _wait(driver, lambda d: "Edna Marsh" in " ".join(m.text for m in _css(d, "#dq-source-panel mark")),
          "a highlight in the uploaded file")
    # the Document selector shows the new file (it used to stay blank: not in its choices)
    _wait(driver, lambda d: "quillford_notes" in _css(d, "#dq-viewer input")[0].get_attribute("value"),
          "the uploaded file in the Document selector", 10)
    _shot(driver, "04-uploaded-answer")

    other, profile = _chrome()  # another visitor sees neither the file nor answers from it
    try:
        _open(other, app_url)
        _tab(other, "Documents")
        assert UPLOAD_NAME not in _css(other, "#dq-docs-list")[0].text
        refused = _ask(other, "Who founded the Zorblax lantern festival?").text
        assert "Edna Marsh" not in refused and "filter" not in refused, refused  # no filter was set
    finally:
        other.quit()
        shutil.rmtree(profile, ignore_errors=True)

    _tab(driver, "Documents")
    driver.execute_script("window.confirm = () => true")
    _css(driver, "#dq-docs-list a.dq-doc-delete")[0].click()
    _wait(driver, lambda d: UPLOAD_NAME not in _css(d, "#dq-docs-list")[0].text, "the deleted file to go")
    assert not _css(driver, "#dq-docs-list a.dq-doc-delete")  # the shared article cannot be deleted


def test_conversation_survives_a_reload_until_new_chat(app_url: str, driver: Any) -> None:
    _open(driver, app_url)
    _ask(driver, "Where was the meeting held?")
    _ask(driver, "How many countries agreed to send troops?")
    driver.refresh()
    _open(driver, app_url)
    _wait(driver, lambda d: len(_css(d, "#dq-chat .dq-answer.dq-done")) == 2, "the restored conversation", 15)
    assert "Where was the meeting held?" in _css(driver, "#dq-chat")[0].text
    card = _css(driver, "#dq-chat a.dq-card")[0]
    card.click()  # the restored answer's evidence still works
    _wait(driver, lambda d: _active_mark(d) == "1", "the restored answer's citation")
    _css(driver, "#dq-new-chat")[0].click()
    _wait(driver, lambda d: not _css(d, "#dq-chat .dq-answer"), "an empty chat")
    driver.refresh()
    _open(driver, app_url)
    time.sleep(1)
    assert not _css(driver, "#dq-chat .dq-answer")


def test_phone_keeps_the_start_of_the_newest_answer_in_view(app_url: str) -> None:
    """Issue 14 item 6: a long answer must not scroll its beginning away."""
    drv, profile = _chrome(390, 800, mobile=True)
    try:
        _open(drv, app_url)
        _ask(drv, "Where was the meeting held?")
        answer = _ask(drv, "How much aid did Europe give Ukraine?")
        time.sleep(0.5)
        top = drv.execute_script("return arguments[0].getBoundingClientRect().top", answer)
        chat_box = drv.execute_script(
            "const r = document.getElementById('dq-chat').getBoundingClientRect(); return [r.top, r.bottom]")
        assert 0 <= top < drv.execute_script("return window.innerHeight"), top
        assert chat_box[0] - 1 <= top < chat_box[1], (top, chat_box)
        _keep_for_docs(_shot(drv, "06-phone"), "screenshot-phone.png")
        _css(drv, "#dq-chat .dq-answer.dq-done a.dq-card")[-1].click()  # the panel is below the chat
        _wait(drv, lambda d: d.execute_script(
            "const r = document.getElementById('dq-source-panel').getBoundingClientRect();"
            "return r.top < window.innerHeight && r.bottom > 0;"), "the source panel scrolled into view", 10)
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
