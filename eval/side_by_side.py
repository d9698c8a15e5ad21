"""``python -m eval --suite NAME --backend extractive --backend llm``: backends side by side.

Why a table of its own: the question for an LLM backend is not only "is it more accurate"
but "what did verification stop". Per backend, over the same items of the same sets: strict
and lenient accuracy, refusals, the answers the LLM wrote itself, how often it fell back to
the extractive answer (per reason code), how many of the LLM's claims verification dropped,
and the time per answer. ``--limit N`` keeps N items per set, spread evenly over the set
(a tiny CPU model takes seconds per answer); ``--split dev`` only the dev items.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from assistant.core.settings import Settings
from eval import metrics as m
from eval.dataset import GoldItem, select
from eval.records import Outcome
from eval.runner import run_backend
from eval.suites import CACHE_DIR, QuestionSet, ensure_index

FALLBACK_CODES = ("llm_uncited", "llm_unverified", "llm_interrupted")


def spread(items: Sequence[GoldItem], limit: int | None) -> list[GoldItem]:
    """At most ``limit`` items, evenly spaced (file order groups similar questions together)."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        return []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


@dataclass
class BackendSummary:
    """One backend's row: counts over every item it answered."""

    backend: str
    n: int = 0
    strict: int = 0
    lenient: int = 0
    refused: int = 0
    errors: int = 0
    by_llm: int = 0  # answers whose text the LLM wrote (not refused, no fallback)
    fallbacks: dict[str, int] = field(default_factory=dict)
    claims: int = 0
    dropped: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    per_set: dict[str, tuple[int, int]] = field(default_factory=dict)  # set -> (strict right, n)
    error: str = ""

    def add(self, set_name: str, pairs: Sequence[tuple[GoldItem, Outcome]]) -> None:
        right = 0
        for item, o in pairs:
            ok = m.answer_correct_strict(item, o)
            right += ok
            self.n += 1
            self.strict += ok
            self.lenient += m.answer_correct(item, o)
            self.refused += o.refused and not o.error
            self.errors += bool(o.error)
            self.by_llm += o.written_by == "llm" and not o.refused and not o.error
            if o.fallback:
                self.fallbacks[o.fallback] = self.fallbacks.get(o.fallback, 0) + 1
            self.claims += o.claims
            self.dropped += o.claims_dropped
            self.latencies_ms.append(o.latency_ms)
        self.per_set[set_name] = (right, len(pairs))


def run(sets: Sequence[QuestionSet], settings: Settings, backends: Sequence[str], k: int,
        limit: int | None = None, split: str | None = None, progress: bool = True,
        log: Callable[[str], object] = print) -> list[BackendSummary]:
    """Every backend over the same items of every set (each set over its own cached index)."""
    from assistant import Assistant

    rows = {b: BackendSummary(b) for b in backends}
    for qs in sets:
        items = spread(select(qs.load(), split=split), limit)
        if not items:
            continue
        folder = ensure_index(qs, settings, CACHE_DIR, log)
        assistant = Assistant(replace(settings, index_dir=folder, chroma_host=""))
        for backend in backends:
            t0 = time.perf_counter()
            result = run_backend(assistant, items, backend, k, progress=progress)
            if result.failed:
                rows[backend].error = result.error
                continue
            by_id = {it.id: it for it in items}
            rows[backend].add(qs.name, [(by_id[o.item_id], o) for o in result.outcomes])
            log(f"{qs.name}: {backend} answered {len(items)} in {time.perf_counter() - t0:.0f} s")
    return list(rows.values())


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=10, method="inclusive")[int(q * 10) - 1]


def format_table(rows: Sequence[BackendSummary]) -> str:
    """The side-by-side Markdown table, then strict accuracy per set."""
    head = ["backend", "questions", "strict", "lenient", "refused", "written by the LLM",
            "fell back (uncited / unverified / interrupted)", "LLM claims dropped", "s/answer median", "p90"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.error:
            lines.append(f"| {r.backend} | failed: {r.error} |" + " |" * (len(head) - 2))
            continue
        fell = sum(r.fallbacks.values())
        split = " / ".join(str(r.fallbacks.get(c, 0)) for c in FALLBACK_CODES)
        llm = r.backend == "llm"
        lines.append(" | ".join([
            f"| {r.backend}", str(r.n), _pct(r.strict, r.n), _pct(r.lenient, r.n), _pct(r.refused, r.n),
            f"{r.by_llm} ({_pct(r.by_llm, r.n)})" if llm else "—",
            f"{fell} ({_pct(fell, r.n)}): {split}" if llm else "—",
            f"{r.dropped} of {r.claims} ({_pct(r.dropped, r.claims)})" if llm else "—",
            f"{statistics.median(r.latencies_ms) / 1000:.2f}" if r.latencies_ms else "—",
            f"{_quantile(r.latencies_ms, 0.9) / 1000:.2f} |" if r.latencies_ms else "— |",
        ]))
    sets = list(dict.fromkeys(s for r in rows for s in r.per_set))
    if sets:
        lines += ["", "| strict per set | " + " | ".join(sets) + " |", "|" + "---|" * (len(sets) + 1)]
        for r in rows:
            cells = [f"{r.per_set[s][0]}/{r.per_set[s][1]}" if s in r.per_set else "—" for s in sets]
            lines.append(f"| {r.backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(rows: Sequence[BackendSummary], folder: Path, meta: dict[str, object]) -> Path:
    """``side-by-side-<timestamp>.json`` and ``.md`` in ``folder``; returns the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"side-by-side-{stamp}.json"
    fell = Counter({c: sum(r.fallbacks.get(c, 0) for r in rows) for c in FALLBACK_CODES})
    data = {"meta": meta, "rows": [asdict(r) for r in rows], "fallback_codes": dict(fell)}
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    path.with_suffix(".md").write_text(format_table(rows) + "\n", encoding="utf-8")
    return path
