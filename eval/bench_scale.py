"""Scale benchmark: ``python -m eval.bench_scale`` (also ``make bench-scale``).

For growing corpora built from shipped text (``eval/scale_corpus.py``: SQuAD 2.0 dev
paragraphs as one big file, 100 files, all 646 files, one 1.1-million-character book, then
the 646-file index replicated 10x and 30x at the query-cache level) it prints, per size:
ingest time, sentences/s (wall and per CPU-second, which moves less when other work shares
the machine), index size on disk, the first answer in a fresh process, warm ``ask()``
p50/p95 and the query process's peak RSS, with growth ratios against the 100-file corpus.
Our ingest's seconds per stage (split, spaCy, MiniLM, Chroma writes, query cache) are
printed below the table. The stock llama-index ingest of the same files
(``eval/stock_llamaindex.py``) runs in the same benchmark, in the same kind of child
process, so its ratios hold on a busy machine. Every row carries the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.core.settings import PROJECT_ROOT

_INGEST = """
import json, sys, time
t_start = time.perf_counter()
from eval.peak import peak_rss_mb
from dataclasses import replace
from pathlib import Path
from assistant.core.settings import Settings
which, folder, index_dir = sys.argv[1:4]
s = replace(Settings.from_env(), index_dir=Path(index_dir), chroma_host="")
if which == "ours":
    from ingest.annotate import _load
    from ingest.pipeline import Ingestor
    ing = Ingestor(s)
    ing.embedder, _load()
    t0, c0 = time.perf_counter(), time.process_time()
    report = ing.ingest_paths([Path(folder)])
    assert not report.errors, report.errors
    rows = report.sentences
    stages = report.timings
else:
    from eval.stock_llamaindex import embedded_share, ingest, load_model
    model = load_model(s.resolved_model_path())
    chunk = int(sys.argv[4]) if len(sys.argv) > 4 else None
    t0, c0 = time.perf_counter(), time.process_time()
    rows = ingest(Path(folder), Path(index_dir), model, chunk)
    stages = {}
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
share = embedded_share(Path(index_dir), model) if which == "stock" else 1.0  # outside the timing
rss = peak_rss_mb()
print(json.dumps({"stages": stages, "load_s": t0 - t_start, "ingest_s": wall, "cpu_s": cpu, "rows": rows,
                  "embedded_share": share, "rss_mb": rss}))
"""

# llama-index SentenceSplitter tokens per chunk for the "every word embedded" stock run: small
# enough that MiniLM's 256 word pieces hold a chunk with its metadata (``embedded_share`` checks)
STOCK_FULL_CHUNK = 180

_QUERY = """
import json, sys, time
t0 = time.perf_counter()
from eval.peak import peak_rss_mb
from dataclasses import replace
from pathlib import Path
from assistant import Assistant
from assistant.core.settings import Settings
qs = json.loads(Path(sys.argv[2]).read_text())
a = Assistant(replace(Settings.from_env(), index_dir=Path(sys.argv[1]), chroma_host=""))
ans = a.ask(qs[0])
first = time.perf_counter() - t0
first_epoch = time.time()
rss_first = peak_rss_mb()
times = []
for q in qs * 2:
    a._retriever._cache.clear()
    t = time.perf_counter(); a.ask(q); times.append(time.perf_counter() - t)
heavy = [m for m in ("chromadb", "torch", "sentence_transformers", "llama_index.core", "spacy", "scipy")
         if m in sys.modules]
print(json.dumps({"first_s": first, "first_epoch": first_epoch, "rss_first_mb": rss_first,
                  "times": times, "heavy": heavy,
                  "sentences": len(a.sentences), "documents": len(a.documents),
                  "rss_mb": peak_rss_mb()}))
"""


def _child(script: str, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; its last stdout line is JSON. Adds wall time and
    the epoch time it was started at (a child's ``first_epoch`` minus it: the first answer as
    a user waits for it, interpreter start-up included)."""
    started = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"benchmark child failed (exit {proc.returncode}): {tail}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_wall_s": wall, "started": started}


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file()) / 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def _query_row(index_dir: Path, qfile: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    q = _child(_QUERY, str(index_dir), str(qfile))
    ms = [t * 1000 for t in q["times"]]
    return {"sentences": q["sentences"], "documents": q["documents"],
            "first_answer_s": q["first_epoch"] - q["started"], "first_in_process_s": q["first_s"],
            "p50_ms": statistics.median(ms), "p95_ms": percentile(ms, 95),
            "rss_mb": q["rss_mb"], "rss_first_mb": q["rss_first_mb"], "heavy_modules": q["heavy"],
            "load_query": load}


def _ingest_size(name: str, corpus: Path, work: Path, qfile: Path, stock: bool) -> dict[str, Any]:
    """Ingest ``corpus`` ours (and stock), then measure the question path over our index."""
    index = work / f"index-{name}"
    load = os.getloadavg()[0]
    ours = _child(_INGEST, "ours", str(corpus), str(index))
    n_files = sum(1 for p in corpus.rglob("*") if p.is_file())
    row: dict[str, Any] = {"name": name, "files": n_files, "load_ingest": load,
                           "ingest_s": ours["ingest_s"], "ingest_cpu_s": ours["cpu_s"],
                           "ingest_load_s": ours["load_s"], "ingest_rss_mb": ours["rss_mb"],
                           "disk_mb": disk_mb(index), "index": str(index), "stages": ours["stages"]}
    row.update(_one_more_file(work, name, index))
    n = ours["rows"]
    row["sent_per_s"] = n / ours["ingest_s"]
    row["sent_per_cpu_s"] = n / max(ours["cpu_s"], 1e-9)
    if stock:
        stock_index = work / f"stock-{name}"
        row["load_stock"] = os.getloadavg()[0]
        st = _child(_INGEST, "stock", str(corpus), str(stock_index))
        row.update({"stock_ingest_s": st["ingest_s"], "stock_cpu_s": st["cpu_s"], "stock_nodes": st["rows"],
                    "stock_disk_mb": disk_mb(stock_index), "stock_rss_mb": st["rss_mb"],
                    "stock_sent_per_s": n / st["ingest_s"],
                    "stock_embedded": st["embedded_share"]})
        if st["embedded_share"] < 0.95:  # stock left words unembedded: also time it embedding them all
            full_index = work / f"stock-full-{name}"
            full = _child(_INGEST, "stock", str(corpus), str(full_index), str(STOCK_FULL_CHUNK))
            row.update({"stock_full_s": full["ingest_s"], "stock_full_nodes": full["rows"],
                        "stock_full_embedded": full["embedded_share"]})
    row.update(_query_row(index, qfile))
    return row


def _one_more_file(work: Path, name: str, index: Path) -> dict[str, Any]:
    """Add one new file to the ingested ``index`` (an upload to a grown corpus): its ingest
    time and, of that, the query cache's update (``cache_carry``: only the new document is
    read and computed)."""
    from eval.scale_corpus import paragraphs

    extra = work / f"extra-{name}"
    extra.mkdir(exist_ok=True)
    text = " ".join(str(p["text"]) for p in paragraphs()[-2:])  # two paragraphs as one new document
    (extra / "zz_one_more.txt").write_text(text, encoding="utf-8")
    more = _child(_INGEST, "ours", str(extra), str(index))
    return {"update_s": more["ingest_s"], "update_cache_s": more["stages"].get("cache", 0.0)}


def run(sizes: list[str], replicas: list[int], stock: bool, work: Path,
        query_only: bool = False, rows: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every row, appended to ``rows`` as it is measured (a failure later keeps the earlier
    ones); ``query_only`` re-measures the question path over a workdir's indexes."""
    from eval.scale_corpus import (
        questions,
        replicate_cache,
        write_big_file,
        write_book,
        write_copies,
        write_files,
    )

    qfile = work / "questions.json"
    qfile.write_text(json.dumps(questions()), encoding="utf-8")
    rows = [] if rows is None else rows
    for size in sizes:
        corpus = work / f"corpus-{size}"
        if size == "1":
            write_big_file(corpus)
        elif size == "book":
            write_book(corpus)
        elif "x" in size:  # "646x30": the files copied 30 times, ingested for real
            n, times = size.split("x")
            write_copies(corpus, int(n), int(times))
        else:
            write_files(corpus, int(size))
        if query_only:
            index = work / f"index-{size}"
            rows.append({"name": size, "index": str(index), "disk_mb": disk_mb(index),
                         **_query_row(index, qfile)})
        else:
            rows.append(_ingest_size(size, corpus, work, qfile, stock))
        print(_line(rows[-1]), file=sys.stderr, flush=True)
    # replicas tile the largest plain file corpus
    files = [r for r in rows if r["name"] not in ("1", "book") and "x" not in r["name"]]
    last = files[-1] if files else rows[-1]
    for times in replicas:
        dst = work / f"index-x{times}"
        if not (query_only and (dst / "cache" / "CURRENT").exists()):
            replicate_cache(Path(last["index"]), dst, times)
        row = {"name": f"{last['name']} x{times}", "disk_mb": disk_mb(dst), **_query_row(dst, qfile)}
        rows.append(row)
        print(_line(row), file=sys.stderr, flush=True)
    return rows


def _line(r: dict[str, Any]) -> str:
    """One table row (the columns of ``report``)."""

    def f(key: str, fmt: str) -> str:
        return format(r[key], fmt) if key in r else "-"

    speed = f"{r['stock_ingest_s'] / r['ingest_s']:.1f}x" if "stock_ingest_s" in r else "-"
    return (f"{r['name']:>10} {r['documents']:>6} {r['sentences']:>7} | {f('ingest_s', '.1f'):>7} "
            f"{f('sent_per_s', '.0f'):>6} {f('sent_per_cpu_s', '.0f'):>6} {f('disk_mb', '.1f'):>6} | "
            f"{f('stock_ingest_s', '.1f'):>7} {f('stock_sent_per_s', '.0f'):>6} "
            f"{f('stock_disk_mb', '.1f'):>6} "
            f"{speed:>6} | {r['first_answer_s']:>5.2f} {r['p50_ms']:>6.1f} {r['p95_ms']:>6.1f} "
            f"{r['rss_mb']:>5.0f} | {f('load_ingest', '.1f'):>4} {r['load_query']:>4.1f}")


HEADER = (f"{'corpus':>10} {'docs':>6} {'sents':>7} | "
          f"{'ingest':>7} {'sent/s':>6} {'/cpu-s':>6} {'diskMB':>6} | "
          f"{'stock s':>7} {'sent/s':>6} {'diskMB':>6} {'speed':>6} | {'first':>5} {'p50ms':>6} {'p95ms':>6} "
          f"{'RSS':>5} | {'load':>4} {'load':>4}")


def report(rows: list[dict[str, Any]]) -> str:
    base = next((r for r in rows if r["name"] == "100"), rows[0])
    lines = [f"docqa scale benchmark — {os.cpu_count()} CPUs; ours vs stock llama-index on the same files",
             "ingest columns: our pipeline (sentences/s of wall time and per CPU-second, index MB on disk);",
             "stock: SimpleDirectoryReader -> VectorStoreIndex -> ChromaVectorStore, same MiniLM; "
             "speed = stock time / ours",
             "question path: first answer in a fresh process (s), warm ask() p50/p95 (ms), peak RSS (MB)",
             "load: 1-minute load average when the ingest / the question runs started", "", HEADER]
    lines += [_line(r) for r in rows]
    lines += ["", f"growth against '{base['name']}' ({base['sentences']} sentences):"]
    for r in rows:
        lines.append(f"  {r['name']:>10}: sentences x{r['sentences'] / base['sentences']:.1f}, first answer "
                     f"x{r['first_answer_s'] / base['first_answer_s']:.2f}, "
                     f"p50 x{r['p50_ms'] / base['p50_ms']:.2f}, "
                     f"RSS x{r['rss_mb'] / base['rss_mb']:.2f}, disk x{r['disk_mb'] / base['disk_mb']:.2f}")
    staged = [r for r in rows if r.get("stages")]
    if staged:
        lines += ["", "where our ingest time went (s): split / entities (spaCy) / embed (MiniLM) / "
                  "write (Chroma) / cache (query cache build)"]
        for r in staged:
            st = r["stages"]
            lines.append(f"  {r['name']:>10}: " + " / ".join(f"{k} {st.get(k, 0.0):.1f}" for k in
                                                            ("split", "entities", "embed", "write", "cache")))
    updated = [r for r in rows if "update_s" in r]
    if updated:
        lines += ["", "one more file added to the ingested index: ingest s (of it, query cache s)"]
        lines += [f"  {r['name']:>10}: {r['update_s']:.1f} ({r['update_cache_s']:.1f})" for r in updated]
    stocked = [r for r in rows if "stock_embedded" in r]
    if stocked:
        lines += ["", "how much of the text stock's vectors cover (MiniLM reads 256 word pieces of a chunk), "
                  f"and stock with {STOCK_FULL_CHUNK}-token chunks, which embeds every word as ours does:"]
        for r in stocked:
            full = (f"; every word: {r['stock_full_s']:.1f} s, {r['stock_full_nodes']} nodes, covers "
                    f"{r['stock_full_embedded']:.0%}, ours/stock {r['ingest_s'] / r['stock_full_s']:.2f}"
                    if "stock_full_s" in r else "")
            lines.append(f"  {r['name']:>10}: default covers {r['stock_embedded']:.0%}{full}")
    heavy = sorted({m for r in rows for m in r.get("heavy_modules", [])})
    lines.append(f"modules the question path imported that it should not: {', '.join(heavy) or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,100,646,book",
                        help="'1' = one file of 100 paragraphs; N = N files (max 646); "
                             "'book' = one 1.1-million-character file; 'NxK' = N files copied K times, "
                             "ingested for real (646x30: about 106k sentences, about an hour with stock)")
    parser.add_argument("--replicas", default="10,30", help="query-side replication of the last size")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock llama-index ingest")
    parser.add_argument("--workdir", type=Path, help="keep corpora and indexes here (default: a temp dir)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save every number as JSON")
    parser.add_argument("--query-only", action="store_true",
                        help="only re-measure the question path over the indexes already in --workdir")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    replicas = [int(x) for x in args.replicas.split(",") if x.strip()]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="docqa-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    failed = False
    try:
        run(sizes, replicas, not args.no_stock, work, args.query_only, rows)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        failed = True
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    if not rows:
        return 2
    print(report(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
