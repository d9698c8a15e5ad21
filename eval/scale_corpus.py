"""Deterministic corpora for ``eval/bench_scale.py``, from text the project ships.

``eval/data/squad_v2_dev_paragraphs.jsonl.gz`` holds the 646 context paragraphs (and two
questions each) of SQuAD 2.0 dev as published at github.com/chrischute/squad — Wikipedia
text, licence CC BY-SA 4.0 (Rajpurkar et al., 2018; see eval/data/SQUAD_LICENSE.md).
Nothing is downloaded: every corpus is written from that file.

* ``one big file``: the first 100 paragraphs in one document (a long file's path);
* ``N files``: the first N paragraphs, one file each (many small files);
* ``book``: one ~1.1-million-character file (the paragraphs, over again), a long book's path;
* replicas (``replicate_cache``): an ingested index's query cache tiled k times under new
  document ids, to measure the question path at 10-30x the corpus without re-embedding.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import numpy as np

SQUAD = Path(__file__).resolve().parent / "data" / "squad_v2_dev_paragraphs.jsonl.gz"


def paragraphs() -> list[dict[str, object]]:
    with gzip.open(SQUAD, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write_files(folder: Path, n: int, prefix: str = "") -> list[Path]:
    """The first ``n`` paragraphs, one ``.txt`` file each (names sort in corpus order)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, p in enumerate(paragraphs()[:n]):
        title = re.sub(r"[^A-Za-z0-9]+", "_", str(p["title"]))[:40]
        path = folder / f"{prefix}{i:05d}_{title}.txt"
        path.write_text(str(p["text"]), encoding="utf-8")
        out.append(path)
    return out


def write_copies(folder: Path, n: int, times: int) -> list[Path]:
    """``times`` copies of the first ``n`` paragraph files, in subfolders ``r000/`` ..., each
    name prefixed with its copy's (a document is known by its file name), for a corpus ingested
    for real at ``times`` the size."""
    out = []
    for k in range(times):
        out += write_files(folder / f"r{k:03d}", n, prefix=f"r{k:03d}_")
    return out


def write_big_file(folder: Path, n: int = 100) -> Path:
    """The first ``n`` paragraphs as one document, separated by blank lines."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"squad_first_{n}_paragraphs.txt"
    path.write_text("\n\n".join(str(p["text"]) for p in paragraphs()[:n]), encoding="utf-8")
    return path


def write_book(folder: Path, chars: int = 1_100_000) -> Path:
    """One ~``chars``-character file (a long book): every paragraph in order, over again
    until the length is reached (646 paragraphs are ~543k characters)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = [str(p["text"]) for p in paragraphs()]
    out: list[str] = []
    size, i = 0, 0
    while size < chars:
        out.append(texts[i % len(texts)])
        size += len(out[-1]) + 2
        i += 1
    path = folder / f"book_{chars // 1000}k_chars.txt"
    path.write_text("\n\n".join(out), encoding="utf-8")
    return path


def questions(n_paragraphs: int = 100, limit: int = 40) -> list[str]:
    """SQuAD questions about the first paragraphs (answerable at every corpus size)."""
    qs = [str(q) for p in paragraphs()[:n_paragraphs] for q in p["questions"][:1]]  # type: ignore[index]
    return qs[:limit]


def replicate_cache(src: Path, dst: Path, times: int) -> None:
    """Write into ``dst`` (an index folder) a query cache that is ``src``'s ``times`` times
    over, each copy under document ids ``r<k>/<id>``; BM25 and terms are rebuilt."""
    from assistant.index.cache_build import write_cache
    from assistant.index.snapshot import open_cache, write_current

    root = src / "cache"
    gen = (root / "CURRENT").read_text().strip()
    snap = open_cache(root, gen)
    assert snap is not None
    docs = [snap.documents[d] for d in snap.documents]
    base_rows = [(s.doc_id, s.sentence_id, s.start, s.end, s.paragraph, s.is_heading,
                  _entities_json(s)) for s in snap.sentences]
    all_docs, rows = [], []
    for k in range(times):
        all_docs += [{"doc_id": f"r{k:03d}/{d.doc_id}", "text": d.text, "source": d.source,
                      "title": d.title, "hash": d.content_hash} for d in docs]
        rows += [(f"r{k:03d}/{r[0]}", *r[1:]) for r in base_rows]
    vectors = np.tile(np.asarray(snap.embeddings), (times, 1))
    folder = dst / "cache" / f"gen-x{times}"
    folder.mkdir(parents=True, exist_ok=True)
    write_cache(folder, all_docs, rows, vectors)
    write_current(dst / "cache", f"x{times}")


def _entities_json(s: object) -> str:
    from assistant.index.store import entities_to_json

    ents = s.entities  # type: ignore[attr-defined]
    return entities_to_json(ents) if ents else ""
