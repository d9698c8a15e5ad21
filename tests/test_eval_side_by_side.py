"""``python -m eval --suite … --backend extractive --backend llm``: the side-by-side rows."""

from __future__ import annotations

from eval.dataset import GoldItem
from eval.records import Outcome, SentenceRef
from eval.side_by_side import BackendSummary, format_table, spread


def _item(n: int) -> GoldItem:
    return GoldItem(id=f"q{n}", category="factoid", question=f"Question {n}?", answerable=True,
                    reference="Paris", must=(("Paris",),), evidence=())


def test_limit_spreads_items_evenly_and_keeps_order() -> None:
    items = [_item(n) for n in range(10)]
    assert [it.id for it in spread(items, 4)] == ["q0", "q2", "q5", "q7"]
    assert spread(items, None) == items and spread(items, 50) == items and spread(items, 0) == []


def test_llm_row_counts_fallbacks_dropped_claims_and_who_wrote_the_answer() -> None:
    cite = (SentenceRef("article.txt", 0, "They met in Paris."),)
    outcomes = [
        Outcome("q0", "Paris [1].", False, cite, latency_ms=2000, claims=1, written_by="llm"),
        Outcome("q1", "Paris [1].", False, cite, latency_ms=4000, fallback="llm_uncited", claims=2,
                claims_dropped=2, written_by="extractive"),
        Outcome("q2", "The documents do not say.", True, latency_ms=6000, fallback="llm_unverified",
                claims=1, claims_dropped=1, written_by="extractive"),
    ]
    llm, ext = BackendSummary("llm"), BackendSummary("extractive")
    llm.add("gold", [(_item(i), o) for i, o in enumerate(outcomes)])
    ext.add("gold", [(_item(0), outcomes[0])])
    assert (llm.n, llm.by_llm, llm.refused, llm.claims, llm.dropped) == (3, 1, 1, 4, 3)
    assert llm.fallbacks == {"llm_uncited": 1, "llm_unverified": 1}
    table = format_table([ext, llm])
    assert "| llm | 3 |" in table and "2 (67%): 1 / 1 / 0" in table and "3 of 4 (75%)" in table
    assert "| extractive | 1 |" in table and "| 4.00 |" in table  # median seconds per answer
    assert "| gold |" in table
