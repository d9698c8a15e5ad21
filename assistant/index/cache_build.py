"""Build the query cache (see ``assistant.index.snapshot``) from what the Chroma manifest says.

Only rows the manifest names are read: rows left by an interrupted ingest (orphans) are
ignored, so a kill at any moment leaves an index that still opens. Runs after every ingest,
and at start-up when the cache is missing or older than the index.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.errors import IndexCorruptError
from assistant.core.settings import Settings
from assistant.index.snapshot import (
    CACHE_FORMAT,
    DIM,
    Blob,
    IdLists,
    IndexSnapshot,
    cache_root,
    current_generation,
    open_cache,
    remove_tree,
    write_current,
)
from assistant.index.store import (
    Collections,
    ManifestEntry,
    describe,
    doc_key,
    read_generation,
    read_manifest,
    repair_hint,
)
from assistant.language.check import document_words
from assistant.retrieval.bm25_mmap import EMPTY_TERM
from assistant.retrieval.ivf import write_ivf

PAGE = 5000
log = logging.getLogger(__name__)


def ensure_cache(settings: Settings, cols: Collections) -> IndexSnapshot:
    """The snapshot of the index's current generation, building its cache when needed."""
    try:
        generation = read_generation(cols.manifest) or "empty"
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the manifest of {describe(settings)}: {exc}; "
                                f"try: {repair_hint(settings)}") from exc
    root = cache_root(settings)
    snap = _open_intact(root, generation)
    if snap is not None:
        if current_generation(root) != generation:
            write_current(root, generation)
        return snap
    try:
        root.mkdir(parents=True, exist_ok=True)
        folder = root / f"gen-{generation}.tmp-{os.getpid()}"
        remove_tree(folder)
        folder.mkdir()
    except OSError:  # a read-only index: build the cache in a private temporary folder
        root = Path(tempfile.mkdtemp(prefix="docqa-cache-"))
        folder = root / f"gen-{generation}.tmp"
        folder.mkdir()
    write_cache(folder, *_read_rows(settings, cols), ivf_from=settings.ann_min_sentences)
    final = root / f"gen-{generation}"
    if final.exists() and _open_intact(root, generation) is not None:  # another process built it meanwhile
        remove_tree(folder)
    else:
        if final.exists():  # the same generation, older format or damaged: moved aside, then replaced
            old = root / f"gen-{generation}.tmp-old-{os.getpid()}"
            os.rename(final, old)
            remove_tree(old)
        os.rename(folder, final)
    write_current(root, generation)
    _clean(root, generation)
    snap = open_cache(root, generation)
    assert snap is not None
    return snap


def _open_intact(root: Path, generation: str) -> IndexSnapshot | None:
    """``open_cache``, a damaged cache counting as absent: here it can be rebuilt from Chroma
    (what ``--repair`` relies on), where a reader can only report it."""
    try:
        return open_cache(root, generation)
    except IndexCorruptError as exc:
        log.warning("rebuilding the query cache: %s", exc)
        return None


def _clean(root: Path, keep: str) -> None:
    """Delete other generations' folders (readers that mapped them keep their open files)
    and half-written folders of processes that are gone."""
    for p in root.iterdir():
        if not p.is_dir() or p.name == f"gen-{keep}":
            continue
        if ".tmp-" in p.name:
            pid = p.name.rsplit(".tmp-", 1)[1]
            if pid.isdigit() and _alive(int(pid)):
                continue
        remove_tree(p)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_rows(settings: Settings, cols: Collections) -> tuple[list[dict[str, Any]], list[tuple], np.ndarray]:
    """(documents, sentence rows, vectors) of every current document version, sorted."""
    try:
        current = {e.doc_id: e for e in read_manifest(cols.manifest).values() if e.content_hash}
        docs = _read_documents(cols, current)
        rows, vectors = _read_sentences(cols, current)
    except IndexCorruptError:
        raise
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the index at {describe(settings)}: {type(exc).__name__}: "
                                f"{exc}; try: {repair_hint(settings)}") from exc
    by_doc: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_doc.setdefault(r[0], []).append(i)
    order: list[int] = []
    for d in docs:
        entry: ManifestEntry = current[d["doc_id"]]
        idx = sorted(by_doc.get(d["doc_id"], []), key=lambda i: rows[i][1])
        sids = [rows[i][1] for i in idx]
        bad = [i for i in idx if not 0 <= rows[i][2] <= rows[i][3] <= len(d["text"])]
        if sids != list(range(entry.sentences)) or bad:
            raise IndexCorruptError(
                f"document {d['doc_id']!r} has {len(set(sids))} of its {entry.sentences} sentence rows "
                f"intact in {describe(settings)}; repair it from its stored text: {repair_hint(settings)}"
            )
        order.extend(idx)
    return docs, [rows[i] for i in order], vectors[order] if order else np.zeros((0, DIM), np.float32)


def _read_documents(cols: Collections, current: dict[str, ManifestEntry]) -> list[dict[str, Any]]:
    keys = {doc_key(d, e.content_hash): d for d, e in current.items()}
    out: list[dict[str, Any]] = []
    wanted = list(keys)
    for a in range(0, len(wanted), 1000):
        got = cols.documents.get(ids=wanted[a : a + 1000], include=["documents", "metadatas"])
        rows = zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
        for row_id, text, meta in rows:
            out.append({"doc_id": keys[row_id], "text": text or "", "source": str(meta.get("source", "")),
                        "title": str(meta.get("title", keys[row_id])), "hash": str(meta.get("h", ""))})
    missing = set(keys.values()) - {d["doc_id"] for d in out}
    if missing:
        raise IndexCorruptError(f"the manifest names documents whose text is missing: {sorted(missing)[:3]}")
    return sorted(out, key=lambda d: d["doc_id"])


def _read_sentences(cols: Collections, current: dict[str, ManifestEntry]) -> tuple[list[tuple], np.ndarray]:
    """Rows (doc_id, sid, start, end, paragraph, heading, entities JSON) of current versions
    (orphans skipped) and their vectors, read page by page."""
    live = {doc_key(d, e.content_hash) for d, e in current.items()}
    rows: list[tuple] = []
    chunks: list[np.ndarray] = []
    offset = 0
    while True:
        got = cols.sentences.get(limit=PAGE, offset=offset, include=["metadatas", "embeddings"])
        ids = got["ids"]
        keep = [j for j, row_id in enumerate(ids) if row_id.split(":", 1)[0] in live]
        if keep:
            emb = np.asarray(got["embeddings"], dtype=np.float32)
            chunks.append(emb[keep])
            for j in keep:
                m = got["metadatas"][j]
                rows.append((str(m["doc"]), int(m["sid"]), int(m["start"]), int(m["end"]),
                             int(m.get("para", 0)), bool(m.get("head", False)), str(m.get("ents", ""))))
        if len(ids) < PAGE:
            break
        offset += PAGE
    vectors = np.vstack(chunks) if chunks else np.zeros((0, DIM), np.float32)
    return rows, vectors


def write_cache(folder: Path, docs: list[dict[str, Any]], rows: list[tuple], vectors: np.ndarray,
                ivf_from: int | None = None) -> None:
    """Write every cache file into ``folder``; ``DONE`` last. The IVF index is written from
    ``ivf_from`` sentences on: the caller's ``Settings.ann_min_sentences`` (the one its
    retriever uses), else the environment's."""
    import bm25s

    from assistant.language.text import content_terms, words

    position = {d["doc_id"]: i for i, d in enumerate(docs)}
    texts = {d["doc_id"]: d["text"] for d in docs}
    sent_texts = [texts[r[0]][r[2] : r[3]] for r in rows]
    table = np.array([(position[r[0]], r[1], r[2], r[3], r[4], int(r[5])) for r in rows],
                     dtype=np.int32).reshape(len(rows), 6)
    np.save(folder / "sent_rows.npy", table)
    np.save(folder / "emb.npy", np.ascontiguousarray(vectors, dtype=np.float32))
    Blob.write(folder, "sent_text", sent_texts)
    Blob.write(folder, "ents", [r[6] for r in rows])
    Blob.write(folder, "doc_text", [d["text"] for d in docs])
    doc_words = sorted(document_words([d["text"] for d in docs]))
    (folder / "doc_words.json").write_text(json.dumps(doc_words, ensure_ascii=False), encoding="utf-8")
    terms = [content_terms(t) for t in sent_texts]
    ids, offsets, n_vocab = IdLists.write(folder, "terms", "vocab.json", terms)
    sent_words = [words(t) for t in sent_texts]
    IdLists.write(folder, "words", "words_vocab.json", sent_words)
    df = np.bincount(_distinct_term_ids(ids, offsets, n_vocab), minlength=n_vocab).astype(np.int32)
    np.save(folder / "df.npy", df)
    _write_corpus_facts(folder, rows, sent_texts, terms, sent_words, position)
    if ivf_from is None:
        ivf_from = Settings.from_env().ann_min_sentences
    if rows and len(rows) >= ivf_from:
        write_ivf(folder / "ivf", vectors)
    if rows:
        # Exactly what SentenceRetriever would build in memory, saved to be memory-mapped.
        bm25 = bm25s.BM25()
        bm25.index([ts or [EMPTY_TERM] for ts in terms], show_progress=False)
        bm25.save(str(folder / "bm25"), show_progress=False)
    meta = {"format": CACHE_FORMAT, "sentences": len(rows), "doc_ids": [d["doc_id"] for d in docs],
            "sources": [d["source"] for d in docs], "titles": [d["title"] for d in docs],
            "hashes": [d["hash"] for d in docs]}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    (folder / "DONE").write_text("ok", encoding="utf-8")


def _distinct_term_ids(ids: np.ndarray, offsets: np.ndarray, n_vocab: int) -> np.ndarray:
    """The vocabulary id of each distinct (sentence, term) pair: counted per id, how many
    sentences hold each term (``df.npy``, ``CorpusTerms.document_frequencies``)."""
    if not len(ids):
        return np.zeros(0, np.int64)
    sentence_of = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    return np.unique(sentence_of * max(1, n_vocab) + ids) % max(1, n_vocab)


def _write_corpus_facts(folder: Path, rows: list[tuple], sent_texts: list[str], terms: list[list[str]],
                        sent_words: list[list[str]], position: dict[str, int]) -> None:
    """The corpus facts the answerer and follow-ups read (``core.corpus``), one pass here
    instead of one per question process, each computed by the one function that defines it:
    ``people`` (per document, ``support.document_people``), ``names.json`` (the union of every
    sentence's ``support.sentence_names``), ``entity_labels.json`` (``support.entity_label_index``)
    and ``person_words.json`` (who the documents name, by word: ``followup_lookup``)."""
    from assistant.answering.support import document_people, entity_label_index, sentence_names
    from assistant.core.types import Sentence
    from assistant.index.store import entities_from_json
    from assistant.language.conversation import person_words

    sentences = [Sentence(doc_id=r[0], sentence_id=r[1], text=t, start=r[2], end=r[3], paragraph=r[4],
                          is_heading=bool(r[5]), entities=entities_from_json(r[6]) if r[6] else ())
                 for r, t in zip(rows, sent_texts, strict=True)]
    by_doc: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_doc.setdefault(s.doc_id, []).append(s)
    people_of = {d: document_people(ss) for d, ss in by_doc.items()}
    Blob.write(folder, "people", [json.dumps(people_of[d], ensure_ascii=False) if d in people_of else ""
                                  for d in position])  # by document position
    names: set[str] = set()
    for s, ts, ws in zip(sentences, terms, sent_words, strict=True):
        names |= sentence_names(s, set(ts), ws, people_of[s.doc_id][1])
    (folder / "names.json").write_text(json.dumps(sorted(names), ensure_ascii=False), encoding="utf-8")
    labels = entity_label_index(sentences)
    (folder / "entity_labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    people: dict[str, set[int]] = {}  # folded word of a PERSON entity -> documents (follow-ups)
    for s in sentences:
        for w in person_words(s):
            people.setdefault(w, set()).add(position[s.doc_id])
    people_json = {w: sorted(d) for w, d in sorted(people.items())}
    (folder / "person_words.json").write_text(json.dumps(people_json, ensure_ascii=False), encoding="utf-8")
