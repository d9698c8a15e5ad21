"""The web chat's HTML builders: exact highlights, escaping of anything untrusted, cards, refusals."""

from __future__ import annotations

import re

from assistant import Answer, Citation, Document
from ui import render

TEXT = "Leaders met in Paris on Thursday. They agreed on troops.\nThe rest is <b>noise</b>."


def _doc(text: str = TEXT, doc_id: str = "article.txt", title: str = "article") -> Document:
    return Document(doc_id=doc_id, text=text, source=doc_id, content_hash="h", title=title)


def _cite(text: str, doc: str = TEXT, sentence_id: int = 0, doc_id: str = "article.txt") -> Citation:
    start = doc.index(text)
    return Citation(text=text, doc_id=doc_id, sentence_id=sentence_id, start=start, end=start + len(text),
                    score=0.8)


def _marked(html: str) -> list[str]:
    """The text inside each <mark>, without its number badge."""
    return [re.sub(r'<span class="dq-mark-n">.*?</span>', "", m)
            for m in re.findall(r"<mark[^>]*>(.*?)</mark>", html, flags=re.S)]


def test_highlight_wraps_exact_offsets_and_keeps_all_text() -> None:
    c1, c2 = _cite("Leaders met in Paris on Thursday."), _cite("They agreed on troops.", sentence_id=1)
    html = render.highlight(TEXT, [render.Span(c2.start, c2.end, 2), render.Span(c1.start, c1.end, 1)])
    assert _marked(html) == [TEXT[c1.start:c1.end], TEXT[c2.start:c2.end]]
    assert 'id="dq-mark-1"' in html and 'id="dq-mark-2"' in html
    plain = re.sub(r'<span class="dq-mark-n">.*?</span>', "", html)
    plain = re.sub(r"</?mark[^>]*>", "", plain)
    assert plain == render.esc(TEXT)  # nothing lost, nothing duplicated, boundaries exact


def test_highlight_marks_active_and_skips_bad_or_overlapping_spans() -> None:
    spans = [render.Span(0, 7, 1), render.Span(3, 10, 2), render.Span(50, 9999, 3), render.Span(5, 5, 4)]
    html = render.highlight(TEXT, spans, active=1)
    assert _marked(html) == ["Leaders"]
    assert 'class="dq-mark dq-mark-source dq-active"' in html


def test_highlight_of_long_text_shows_windows_with_exact_offsets() -> None:
    text = "x" * 100_000 + "Needle sentence." + "y" * 100_000
    start = text.index("Needle")
    html = render.highlight(text, [render.Span(start, start + 16, 1)])
    assert _marked(html) == ["Needle sentence."]
    assert len(html) < 10_000 and html.count("dq-gap") == 2


def test_document_text_is_escaped_in_the_source_panel() -> None:
    evil = "Intro. <script>alert('x')</script> Done & dusted."
    cite = _cite("<script>alert('x')</script>", doc=evil)
    html = render.source_panel_html(_doc(evil, title="<img src=x onerror=alert(1)>"),
                                    [render.Span(cite.start, cite.end, 1)])
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Done &amp; dusted." in html


def test_question_and_answer_text_are_escaped() -> None:
    answer = Answer(text="It says <script>x()</script> [1].", refused=False,
                    citations=[_cite("Leaders met in Paris on Thursday.")],
                    question="<script>steal()</script>")
    html = render.answer_html(answer, {"article.txt": _doc()})
    assert "<script>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert render.esc("<script>steal()</script>") == "&lt;script&gt;steal()&lt;/script&gt;"


def test_markers_become_links_only_when_a_citation_exists() -> None:
    html = render.answer_text_html("In Paris [1], in [2019] and [2].", n_citations=2, answer_no=3)
    assert html.count('<sup class="ref">') == 2
    assert '<a class="dq-ref" href="#dq-cite-3-1">[1]</a>' in html and 'href="#dq-cite-3-2"' in html
    assert "[2019]" in html and '<sup class="ref">[2019]' not in html


def test_citation_card_shows_sentence_document_and_position() -> None:
    cite = _cite("They agreed on troops.", sentence_id=1)
    card = render.citation_card(1, cite, {"article.txt": _doc()})
    assert "They agreed on troops." in card
    assert '<span class="dq-doc">article</span>' in card
    assert f"sentence 2, chars {cite.start}–{cite.end}" in card
    assert 'class="dq-card dq-source" href="#dq-cite-0-1"' in card and ">source<" in card
    assert card.startswith("<a ")  # a link: reachable with Tab, opened with Enter


def test_answer_has_sources_cards_and_no_blank_lines() -> None:
    answer = Answer(text="Paris [1].\n\nLeaders met in Paris on Thursday. [1]", refused=False,
                    citations=[_cite("Leaders met in Paris on Thursday.")], timings={"total_ms": 42.0})
    html = render.answer_html(answer)
    assert 'class="dq-answer dq-ok dq-done"' in html and "Sources" in html and "dq-card" in html
    assert "\n" not in html  # a blank line would end the HTML block inside the chatbot's markdown
    assert "answered in 42 ms" in html


def test_partial_answer_has_no_cards_yet() -> None:
    answer = Answer(text="Paris [1].", refused=False, citations=[_cite("Leaders met in Paris on Thursday.")])
    html = render.answer_html(answer, partial="Paris")
    assert "Paris" in html and "dq-card" not in html


def test_refusal_looks_different_and_labels_related_not_sources() -> None:
    answer = Answer(text="The documents do not say.", refused=True,
                    related=[_cite("They agreed on troops.", sentence_id=1)])
    html = render.answer_html(answer, {"article.txt": _doc()})
    assert 'class="dq-answer dq-refused dq-done"' in html
    assert render.REFUSAL_HEADING in html
    assert "Related sentences" in html and "Sources" not in html
    assert 'class="dq-card dq-related"' in html and ">related<" in html
    spans = render.spans_for(answer, "article.txt")
    assert [s.kind for s in spans] == ["related"]
    panel = render.source_panel_html(_doc(), spans)
    assert "dq-mark-related" in panel and "related sentence marked" in panel


def test_confidence_is_shown_and_a_probable_answer_looks_hedged() -> None:
    cite = _cite("Leaders met in Paris on Thursday.")
    sure = Answer(text="Paris [1].", refused=False, citations=[cite], confidence=0.91, certainty="confident")
    html = render.answer_html(sure, {"article.txt": _doc()})
    assert "dq-conf-confident" in html and "Confident · 91% likely right" in html
    assert "dq-probable" not in html
    maybe = Answer(text="Probably Paris [1] — check the cited sentences.", refused=False, citations=[cite],
                   confidence=0.55, certainty="probable")
    html = render.answer_html(maybe, {"article.txt": _doc()})
    assert 'class="dq-answer dq-ok dq-probable dq-done"' in html
    assert "Not certain · 55% likely right" in html
    assert "dq-conf" not in render.answer_html(maybe, partial="Probably")  # only once complete
    assert "dq-conf" not in render.answer_html(Answer(text="Paris [1].", refused=False, citations=[cite]))


def test_an_unsure_refusal_offers_the_passages() -> None:
    answer = Answer(text="I could not find a sentence that clearly answers this.", refused=True,
                    related=[_cite("They agreed on troops.", sentence_id=1)], certainty="unsure",
                    confidence=0.1)
    html = render.answer_html(answer, {"article.txt": _doc()})
    assert render.UNSURE_HEADING in html and render.REFUSAL_HEADING not in html
    assert 'class="dq-card dq-related"' in html


def test_invalid_question_shows_the_error_not_a_refusal() -> None:
    answer = Answer(text="x", refused=True, error="The question is empty.", kind="invalid")
    html = render.answer_html(answer)
    assert "dq-invalid" in html and "The question is empty." in html
    assert render.REFUSAL_HEADING not in html
    assert render.spans_for(answer, "article.txt") == []


def test_backend_failure_is_not_blamed_on_the_question() -> None:
    answer = Answer(text="x", refused=True, error="cannot reach the LLM server", backend="llm")
    html = render.answer_html(answer)
    assert "The llm answer backend could not answer" in html and "cannot reach the LLM server" in html
    assert render.INVALID_HEADING not in html and render.REFUSAL_HEADING not in html


def test_spans_only_for_the_shown_document() -> None:
    other = "Another text entirely."
    answer = Answer(text="a [1] b [2]", refused=False,
                    citations=[_cite("They agreed on troops."),
                               _cite("Another text", doc=other, doc_id="b.txt")])
    assert [s.n for s in render.spans_for(answer, "article.txt")] == [1]
    assert [s.n for s in render.spans_for(answer, "b.txt")] == [2]


def test_source_panel_without_documents_says_how_to_add_one() -> None:
    assert "Add a .txt" in render.source_panel_html(None)


def test_documents_list_escapes_names_and_offers_only_allowed_actions() -> None:
    rows = [render.DocRow("<x>.txt", "<x>", 3, 10, "2026-01-02 10:00"),
            render.DocRow("session-0123456789abcdef/notes.md", "notes", 5, 20, "2026-01-02 11:00", mine=True,
                          can_delete=True)]
    html = render.documents_html(rows)
    assert "<x>" not in html and "&lt;x&gt;" in html
    assert "3 sentences" in html and "2 documents indexed" in html and "dated 2026-01-02 10:00" in html
    assert html.count("dq-doc-delete") == 1 and "#dq-delete-session-0123456789abcdef%2Fnotes.md" in html
    assert "0123456789abcdef" not in html.replace("#dq-delete-session-0123456789abcdef", "")
    assert "Re-index" not in html
    assert render.documents_html([]).count("Nothing is indexed") == 1


def test_progress_shows_one_line_per_file_with_a_bar_while_embedding() -> None:
    html = render.progress_html([render.FileProgress("<a>.txt", "embedding", 64, 200),
                                 render.FileProgress("b.pdf", "failed", message="is empty")])
    assert html.count("<li") == 2 and '<progress max="200" value="64">' in html
    assert "embedding 64 / 200 texts" in html and "&lt;a&gt;.txt" in html
    assert "not indexed — is empty" in html


def test_markdown_sources_read_as_text_with_exact_offsets() -> None:
    """Issue 14 item 10: **bold**, '- ' and '# ' are markup, not words; offsets stay exact."""
    text = ("# Elmwood news\n\n- **Elmwood council** approved the [tram](http://x.y) plan.\n"
            "- It opens in May.\n")
    doc = _doc(text, doc_id="news.md", title="news")
    first = "- **Elmwood council** approved the [tram](http://x.y) plan."
    cite = _cite(first, doc=text, doc_id="news.md")
    card = render.citation_card(1, cite, {"news.md": doc})
    assert "• Elmwood council approved the tram plan." in card and "**" not in card
    html = render.highlight(text, [render.Span(cite.start, cite.end, 1)], markdown=True)
    assert _marked(html) == ["• Elmwood council approved the tram plan."]
    assert "Elmwood news" in html and "# " not in html
    assert render.highlight(text, [], markdown=False).count("**") == 2  # .txt files are shown as they are
    assert cite.text == text[cite.start:cite.end]
