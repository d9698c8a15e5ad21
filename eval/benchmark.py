"""Latency benchmark: ``python -m eval.benchmark [--json FILE]`` (also ``make bench``).

Measures what a user waits for, against the targets of the issue, and against a naive
baseline measured in the same run on the same machine (so the ratios mean something even
when the machine is busy):

* cold start — a fresh ``python`` process: interpreter + ``import assistant`` + the first
  ``ask()``, wall time seen by the parent, median of ``--cold-runs`` runs.
  Baseline: the same fresh process doing what a naive setup does — import
  sentence-transformers, load the model, embed the question, ``collection.query`` in Chroma
  (retrieval only: it does not even compose an answer, so it flatters the baseline).
* warm ``ask()`` — one loaded ``Assistant``, ~40 varied questions (facts, lists, off-topic,
  typos, non-English, follow-ups with history) x ``--rounds``; p50 / p95 / max.
  Baseline: ``SentenceTransformer.encode(question)`` + ``collection.query`` in this process.
* peak RSS of each process (``VmHWM``: ``peak_rss_mb``).

The disk cache is warm after the first run: "cold" means a new process, not a cold disk.
Targets: warm p50 <= 20 ms, first answer after cold start <= 4 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.core.settings import PROJECT_ROOT, Settings
from eval.peak import peak_rss_mb

# The baseline's transformers prints a progress bar per model load; keep the report readable.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

TARGET_WARM_P50_MS = 20.0
TARGET_COLD_S = 4.0
COLD_QUESTION = "How many countries agreed to send troops?"

_TROOPS_HISTORY = [{"role": "user", "content": "How many countries agreed to send troops?"},
                   {"role": "assistant", "content": "Up to 26 of them have agreed to send troops. [1]"}]
_AID_HISTORY = [{"role": "user", "content": "How much aid did Europe give Ukraine?"},
                {"role": "assistant", "content": "Europeans had provided kyiv 167,000 million euros. [1]"}]
_FORCE_HISTORY = [{"role": "user", "content": "Does the force intend to fight Russia?"},
                  {"role": "assistant", "content": "“This force does not intend or the goal of fighting "
                                                   "any war against Russia,” said the French president. [1]"}]

# (question, history): facts of every kind, lists, refusals, noise, and follow-ups.
QUESTIONS: list[tuple[str, list[dict[str, str]] | None]] = [(q, None) for q in [
    "How many countries agreed to send troops?",
    "Where was the meeting held?",
    "Who presided over the meeting of the coalition of volunteers?",
    "Who is the Ukrainian president?",
    "On which day was the meeting held?",
    "What is the coalition of volunteers?",
    "How much aid did Europe give Ukraine?",
    "How much did the US contribute?",
    "How many Ukrainian soldiers have been trained since 2022?",
    "How many were trained by the Eumam mission?",
    "How many were trained in the British Interflex mission?",
    "Which countries were skeptical until now?",
    "What did Giorgia Meloni clarify?",
    "Will Italian troops enter Ukrainian territory?",
    "What did Macron say about fighting a war against Russia?",
    "Who did Macron talk to by videoconference?",
    "What will happen if Russia refuses to talk about peace?",
    "How many men has Moscow lost?",
    "Where will the headquarters be established?",
    "Where would the headquarters move the following year?",
    "How much did Russia receive for EU crude oil sales?",
    "Which countries continue to buy Russian oil?",
    "What is the reinforcement force?",
    "Why will the details of the organization not be communicated?",
    "What has the US said about its support for the security guarantees?",
    "When did the invasion start?",
    "What would the third level of the plan imply?",
    "Who is the Russian president?",
    "What did Macron say last Friday?",
    "How would the nations be present?",
    "What is the capital of Peru?",
    "Who won the 2018 football World Cup?",
    "How do I bake sourdough bread?",
    "whats the numbr of countrys sending troops",
    "¿Dónde se celebró la reunión?",
    "Tell me everything about the security guarantees for kyiv, what role the US plays in them, "
    "and whether the planning work with Washington will begin soon.",
    "Paris?",
]] + [
    ("And the Americans?", _AID_HISTORY),
    ("What about Italy?", _TROOPS_HISTORY),
    ("Who said that?", _FORCE_HISTORY),
]

# Run in fresh interpreters; each prints one JSON line. Times start at the first import line,
# the parent adds the interpreter's own start-up by timing the whole process.
_OURS_COLD = """
import json, sys, time
t0 = time.perf_counter()
from eval.peak import peak_rss_mb
from assistant import Assistant
a = Assistant()
t1 = time.perf_counter()
ans = a.ask(sys.argv[1])
t2 = time.perf_counter()
heavy = [m for m in ("torch", "sentence_transformers", "llama_index.core", "gradio", "transformers",
                    "chromadb") if m in sys.modules]
print(json.dumps({"import_s": t1 - t0, "first_ask_s": t2 - t1, "refused": ans.refused,
                  "error": ans.error, "heavy_modules": heavy,
                  "rss_mb": peak_rss_mb()}))
"""

_BASELINE_COLD = """
import json, sys, time
t0 = time.perf_counter()
from eval.peak import peak_rss_mb
import chromadb
from chromadb.config import Settings as ChromaSettings
from sentence_transformers import SentenceTransformer
from assistant.core.settings import Settings
from assistant.index.store import collection_names
s = Settings.from_env()
model = SentenceTransformer(s.resolved_model_path(), device="cpu")
col = chromadb.PersistentClient(path=str(s.index_dir), settings=ChromaSettings(anonymized_telemetry=False)
                                ).get_collection(collection_names(s)[0], embedding_function=None)
t1 = time.perf_counter()
vec = model.encode([sys.argv[1]], normalize_embeddings=True, show_progress_bar=False)
res = col.query(query_embeddings=vec.tolist(), n_results=8)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_ask_s": t2 - t1, "hits": len(res["ids"][0]),
                  "rss_mb": peak_rss_mb()}))
"""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p95 is a latency that happened)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {"n": len(ms), "p50_ms": statistics.median(ms), "p95_ms": percentile(ms, 95),
            "mean_ms": statistics.fmean(ms), "max_ms": max(ms)}


def cold_runs(script: str, runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Run ``script`` in ``runs`` fresh interpreters; median wall time and the child reports."""
    walls: list[float] = []
    reports: list[dict[str, Any]] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", script, COLD_QUESTION], capture_output=True, text=True,
                              env=env, cwd=PROJECT_ROOT, timeout=600)
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
            raise RuntimeError(f"cold-start run failed (exit {proc.returncode}): {tail[0]}")
        reports.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {
        "wall_s_median": statistics.median(walls),
        "wall_s_runs": walls,
        "import_s_median": statistics.median(r["import_s"] for r in reports),
        "first_ask_s_median": statistics.median(r["first_ask_s"] for r in reports),
        "rss_mb_max": max(r["rss_mb"] for r in reports),
        "last_report": reports[-1],
    }


def warm_runs(ask: Callable[[str, list[dict[str, str]] | None], Any], rounds: int) -> dict[str, float]:
    """Time ``ask`` over every question, ``rounds`` times (after one untimed warm-up pass)."""
    for q, h in QUESTIONS[:3]:
        ask(q, h)
    samples: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for q, h in QUESTIONS:
            c0, t0 = time.process_time(), time.perf_counter()
            ask(q, h)
            samples.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    # CPU time (all threads of this process) barely moves when other processes compete for
    # the cores, so it is the better guide to an idle machine's latency on a busy one.
    return {**summarise_ms(samples), "cpu_p50_ms": statistics.median(cpu) * 1000,
            "cpu_p95_ms": percentile(cpu, 95) * 1000}


def baseline_warm(settings: Settings, rounds: int) -> dict[str, float]:
    """The naive warm path: SentenceTransformer.encode + Chroma collection.query per question."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(settings.resolved_model_path(), device="cpu")
    client = chromadb.PersistentClient(path=str(settings.index_dir),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    from assistant.index.store import collection_names

    col = client.get_collection(collection_names(settings)[0], embedding_function=None)

    def ask(question: str, history: list[dict[str, str]] | None) -> Any:
        vec = model.encode([question], normalize_embeddings=True, show_progress_bar=False)
        return col.query(query_embeddings=vec.tolist(), n_results=settings.top_k)

    return warm_runs(ask, rounds)


def run(rounds: int, cold: int, with_baseline: bool, settings: Settings) -> dict[str, Any]:
    """Every measurement, in an order that keeps the baseline's torch out of our RSS figure."""
    from assistant.engine import Assistant

    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(settings.index_dir)}
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "load_avg_1m_start": os.getloadavg()[0],
                    "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", "")},
        "questions": len(QUESTIONS), "rounds": rounds, "cold_runs": cold,
        "targets": {"warm_p50_ms": TARGET_WARM_P50_MS, "cold_first_answer_s": TARGET_COLD_S},
    }
    results["ours_cold"] = cold_runs(_OURS_COLD, cold, env)

    assistant = Assistant(settings)
    t0 = time.perf_counter()
    assistant._ensure_loaded()
    results["ours_load_s"] = time.perf_counter() - t0

    def ours(question: str, history: list[dict[str, str]] | None) -> Any:
        # Rounds repeat the same questions: empty the query-vector cache first, so every
        # timed ask embeds its question (what a new question costs), not a cache hit.
        retriever = assistant._retriever
        if retriever is not None and hasattr(retriever, "_cache"):
            retriever._cache.clear()
        return assistant.ask(question, history)

    results["ours_warm"] = warm_runs(ours, rounds)
    results["ours_warm_rss_mb"] = peak_rss_mb()

    if with_baseline:
        results["baseline_cold"] = cold_runs(_BASELINE_COLD, cold, env)
        results["baseline_warm"] = baseline_warm(settings, rounds)
        results["ratios"] = {
            "cold_wall": results["ours_cold"]["wall_s_median"] / results["baseline_cold"]["wall_s_median"],
            "warm_p50": results["ours_warm"]["p50_ms"] / results["baseline_warm"]["p50_ms"],
            "warm_p95": results["ours_warm"]["p95_ms"] / results["baseline_warm"]["p95_ms"],
            "warm_cpu_p50": results["ours_warm"]["cpu_p50_ms"] / results["baseline_warm"]["cpu_p50_ms"],
            "cold_rss": results["ours_cold"]["rss_mb_max"] / results["baseline_cold"]["rss_mb_max"],
        }
    results["machine"]["load_avg_1m_end"] = os.getloadavg()[0]
    results["pass"] = {
        "warm_p50": results["ours_warm"]["p50_ms"] <= TARGET_WARM_P50_MS,
        "cold_first_answer": results["ours_cold"]["wall_s_median"] <= TARGET_COLD_S,
    }
    return results


def report(r: dict[str, Any]) -> str:
    """The human-readable table."""
    oc, ow = r["ours_cold"], r["ours_warm"]

    def mark(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    lines = [
        f"docqa latency benchmark — {r['questions']} questions x {r['rounds']} rounds, "
        f"{r['cold_runs']} cold runs, {r['machine']['cpus']} CPUs, Python {r['machine']['python']}",
        "",
        f"{'':28}{'ours':>12}{'baseline':>12}{'ours/base':>11}",
    ]
    bc, bw, ratios = r.get("baseline_cold"), r.get("baseline_warm"), r.get("ratios", {})

    def row(label: str, ours: float, base: float | None, unit: str, ratio_key: str | None) -> str:
        prec = 2 if unit == "s" else 1
        o = f"{ours:.{prec}f} {unit}"
        b = f"{base:.{prec}f} {unit}" if base is not None else "-"
        ratio = f"{ratios[ratio_key]:.2f}x" if ratio_key in ratios else ""
        return f"{label:28}{o:>12}{b:>12}{ratio:>11}"

    lines += [
        row("cold: first answer (wall)", oc["wall_s_median"], bc and bc["wall_s_median"], "s", "cold_wall"),
        row("  imports (+ model, base)", oc["import_s_median"], bc and bc["import_s_median"], "s", None),
        row("  first ask (+ index, ours)", oc["first_ask_s_median"], bc and bc["first_ask_s_median"], "s",
            None),
        row("cold: peak RSS", oc["rss_mb_max"], bc and bc["rss_mb_max"], "MB", "cold_rss"),
        row("warm ask p50", ow["p50_ms"], bw and bw["p50_ms"], "ms", "warm_p50"),
        row("warm ask p95", ow["p95_ms"], bw and bw["p95_ms"], "ms", "warm_p95"),
        row("warm ask max", ow["max_ms"], bw and bw["max_ms"], "ms", None),
        row("warm ask CPU time p50", ow["cpu_p50_ms"], bw and bw["cpu_p50_ms"], "ms", "warm_cpu_p50"),
        row("warm process peak RSS", r["ours_warm_rss_mb"], None, "MB", None),
        "",
        f"target warm p50 <= {TARGET_WARM_P50_MS:.0f} ms: {mark(r['pass']['warm_p50'])} "
        f"({ow['p50_ms']:.1f} ms)",
        f"target first answer after cold start <= {TARGET_COLD_S:.0f} s: "
        f"{mark(r['pass']['cold_first_answer'])} ({oc['wall_s_median']:.2f} s)",
    ]
    heavy = oc["last_report"].get("heavy_modules") or []
    if heavy:
        lines.append(f"warning: the question path imported {', '.join(heavy)} (cold start pays for it)")
    if bw:
        lines.append("baseline = sentence-transformers encode + Chroma collection.query (retrieval only)")
    load = (r["machine"]["load_avg_1m_start"], r["machine"]["load_avg_1m_end"])
    lines.append(f"load average (1 min) at start/end: {load[0]:.2f} / {load[1]:.2f} "
                 f"on {r['machine']['cpus']} CPUs (other work on the machine inflates every number)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save every number as JSON")
    parser.add_argument("--rounds", type=int, default=3, help="warm passes over the questions (default 3)")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes per cold start (default 3)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the sentence-transformers baseline (faster)")
    parser.add_argument("--index-dir", type=Path,
                        help="index folder (default: ASSISTANT_INDEX_DIR or .index/)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.cold_runs < 1:
        parser.error("--rounds and --cold-runs must be at least 1")
    settings = Settings.from_env()
    if args.index_dir:
        from dataclasses import replace

        settings = replace(settings, index_dir=args.index_dir)
    from assistant.core.errors import AssistantError
    from assistant.index.index_view import read_snapshot

    try:
        read_snapshot(settings)  # fail early and clearly, not inside a child process
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        results = run(args.rounds, args.cold_runs, not args.no_baseline, settings)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"saved {args.json}")
    return 1 if args.check and not all(results["pass"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
