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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.errors import IndexCorruptError
from assistant.core.settings import Settings
from assistant.core.types import Sentence
from assistant.index.cache_carry import Carried, builder_key, carried_documents, origins
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
    sentence_row_ids,
)
from assistant.language.check import document_words
from assistant.retrieval.bm25_mmap import EMPTY_TERM
from assistant.retrieval.ivf import n_lists, write_ivf

PAGE = 5000
log = logging.getLogger(__name__)


def ensure_cache(settings: Settings, cols: Collections, carry: bool = True) -> IndexSnapshot:
    """The snapshot of the index's current generation, building its cache when needed: from
    the previous generation's cache where documents are unchanged (``cache_carry``), or with
    ``carry=False`` (``--repair``) wholly from Chroma."""
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
    docs, rows, vectors, carried = _read_rows(settings, cols, cache_root(settings) if carry else None)
    write_cache(folder, docs, rows, vectors, ivf_from=settings.ann_min_sentences, carried=carried)
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


def _read_rows(settings: Settings, cols: Collections, root: Path | None
               ) -> tuple[list[dict[str, Any]], list[tuple], np.ndarray, Carried | None]:
    """(documents, sentence rows, vectors) of every current document version, sorted, and what
    the previous cache generation in ``root`` gives unchanged (``cache_carry``; None: nothing):
    only the other documents are read from Chroma."""
    try:
        current = {e.doc_id: e for e in read_manifest(cols.manifest).values() if e.content_hash}
        carried = carried_documents(root, current) if root is not None else None
        fresh = {d: e for d, e in current.items() if carried is None or d not in carried.ranges}
        docs = _read_documents(cols, fresh)
        rows, vectors = _read_sentences(cols, fresh, by_ids=carried is not None)
    except IndexCorruptError:
        raise
    except Exception as exc:
        raise IndexCorruptError(f"cannot read the index at {describe(settings)}: {type(exc).__name__}: "
                                f"{exc}; try: {repair_hint(settings)}") from exc
    by_doc: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_doc.setdefault(r[0], []).append(i)
    read = {d["doc_id"]: d for d in docs}
    out_docs: list[dict[str, Any]] = []
    out_rows: list[tuple] = []
    parts: list[np.ndarray] = []
    for doc_id in sorted(current):
        if doc_id not in read:  # carried: the previous cache's rows, as they were
            assert carried is not None
            out_docs.append(carried.document(doc_id))
            out_rows += carried.rows(doc_id)
            span = carried.ranges[doc_id]
            parts.append(np.asarray(carried.previous.embeddings[span.start : span.stop], dtype=np.float32))
            continue
        idx = _checked_order(settings, read[doc_id], current[doc_id], rows, by_doc.get(doc_id, []))
        out_docs.append(read[doc_id])
        out_rows += [rows[i] for i in idx]
        parts.append(vectors[idx] if idx else np.zeros((0, DIM), np.float32))
    return out_docs, out_rows, np.vstack(parts) if parts else np.zeros((0, DIM), np.float32), carried


def _checked_order(settings: Settings, doc: dict[str, Any], entry: ManifestEntry, rows: list[tuple],
                   idx: list[int]) -> list[int]:
    """``idx`` (the document's rows) in sentence order, after checking that every sentence the
    manifest counts is there once with offsets inside the text."""
    idx = sorted(idx, key=lambda i: rows[i][1])
    sids = [rows[i][1] for i in idx]
    bad = [i for i in idx if not 0 <= rows[i][2] <= rows[i][3] <= len(doc["text"])]
    if sids != list(range(entry.sentences)) or bad:
        raise IndexCorruptError(
            f"document {doc['doc_id']!r} has {len(set(sids))} of its {entry.sentences} sentence rows "
            f"intact in {describe(settings)}; repair it from its stored text: {repair_hint(settings)}"
        )
    return idx


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


def _read_sentences(cols: Collections, current: dict[str, ManifestEntry],
                    by_ids: bool = False) -> tuple[list[tuple], np.ndarray]:
    """Rows (doc_id, sid, start, end, paragraph, heading, entities JSON) of current versions
    (orphans skipped) and their vectors (``_pages``)."""
    live = {doc_key(d, e.content_hash) for d, e in current.items()}
    rows: list[tuple] = []
    chunks: list[np.ndarray] = []
    for got in _pages(cols, current, by_ids):
        keep = [j for j, row_id in enumerate(got["ids"]) if row_id.split(":", 1)[0] in live]
        if keep:
            emb = np.asarray(got["embeddings"], dtype=np.float32)
            chunks.append(emb[keep])
            for j in keep:
                m = got["metadatas"][j]
                rows.append((str(m["doc"]), int(m["sid"]), int(m["start"]), int(m["end"]),
                             int(m.get("para", 0)), bool(m.get("head", False)), str(m.get("ents", ""))))
    vectors = np.vstack(chunks) if chunks else np.zeros((0, DIM), np.float32)
    return rows, vectors


def _pages(cols: Collections, current: dict[str, ManifestEntry], by_ids: bool) -> Iterator[dict[str, Any]]:
    """The sentence collection page by page: all of it, or ``by_ids`` the rows of ``current``
    only (a few documents added to a large index)."""
    include: Any = ["metadatas", "embeddings"]
    if by_ids:
        wanted = [i for d, e in current.items() for i in sentence_row_ids(d, e.content_hash, e.sentences)]
        for a in range(0, len(wanted), PAGE):
            yield dict(cols.sentences.get(ids=wanted[a : a + PAGE], include=include))
        return
    offset = 0
    while True:
        got = dict(cols.sentences.get(limit=PAGE, offset=offset, include=include))
        yield got
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def write_cache(folder: Path, docs: list[dict[str, Any]], rows: list[tuple], vectors: np.ndarray,
                ivf_from: int | None = None, carried: Carried | None = None) -> None:
    """Write every cache file into ``folder``; ``DONE`` last. The IVF index is written from
    ``ivf_from`` sentences on: the caller's ``Settings.ann_min_sentences`` (the one its
    retriever uses), else the environment's. ``carried``: the previous generation, whose
    documents (those in ``carried.ranges``, given here with the same rows) keep their stored
    terms, words, people and IVF clusters instead of being computed again."""
    import bm25s

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
    _write_json(folder / "doc_words.json", sorted(_document_words(docs, carried)))
    counts = [0] * len(docs)
    for r in rows:
        counts[position[r[0]]] += 1
    origin = origins(carried, list(position), counts)
    terms, sent_words = _sentence_lists(sent_texts, origin, carried)
    ids, offsets, n_vocab = IdLists.write(folder, "terms", "vocab.json", terms)
    IdLists.write(folder, "words", "words_vocab.json", sent_words)
    df = np.bincount(_distinct_term_ids(ids, offsets, n_vocab), minlength=n_vocab).astype(np.int32)
    np.save(folder / "df.npy", df)
    _write_corpus_facts(folder, rows, sent_texts, terms, sent_words, position, carried)
    if ivf_from is None:
        ivf_from = Settings.from_env().ann_min_sentences
    if rows and len(rows) >= ivf_from:
        write_ivf(folder / "ivf", vectors, centroids=_carried_centroids(carried, len(rows)))
    if rows:
        # Exactly what SentenceRetriever would build in memory, saved to be memory-mapped.
        bm25 = bm25s.BM25()
        bm25.index([ts or [EMPTY_TERM] for ts in terms], show_progress=False)
        bm25.save(str(folder / "bm25"), show_progress=False)
    meta = {"format": CACHE_FORMAT, "sentences": len(rows), "doc_ids": [d["doc_id"] for d in docs],
            "sources": [d["source"] for d in docs], "titles": [d["title"] for d in docs],
            "hashes": [d["hash"] for d in docs], "builder": builder_key()}
    _write_json(folder / "meta.json", meta)
    (folder / "DONE").write_text("ok", encoding="utf-8")


def _sentence_lists(sent_texts: list[str], origin: np.ndarray, carried: Carried | None
                    ) -> tuple[list[list[str]], list[list[str]]]:
    """Each sentence's ``content_terms`` and ``words``: the previous cache's for a carried row
    (``origin`` >= 0), computed for the others."""
    from assistant.language.text import content_terms, words

    if carried is None:
        return [content_terms(t) for t in sent_texts], [words(t) for t in sent_texts]
    old = origin.tolist()
    prev_terms, prev_sentences = carried.previous.terms, carried.previous.sentences
    terms = [prev_terms[o] if o >= 0 else content_terms(t) for o, t in zip(old, sent_texts, strict=True)]
    sent_words = [prev_sentences.sentence_words(o) if o >= 0 else words(t)
                  for o, t in zip(old, sent_texts, strict=True)]
    return terms, sent_words


def _carried_centroids(carried: Carried | None, n_rows: int) -> np.ndarray | None:
    """The previous cache's IVF centroids when its clusters still suit ``n_rows`` sentences
    (``ivf.n_lists`` within a quarter of theirs): the new rows are assigned to them instead of
    clustering again. A corpus that grew or shrank more is clustered afresh."""
    centroids = carried.centroids if carried is not None else None
    if centroids is None:
        return None
    return centroids if 0.8 <= len(centroids) / n_lists(n_rows) <= 1.25 else None


def _document_words(docs: list[dict[str, Any]], carried: Carried | None) -> frozenset[str]:
    """``check.document_words`` of every document: the previous generation's and the new
    documents' when documents were only added (a union over documents), else from every text."""
    if carried is not None and carried.grown:
        added = [d["text"] for d in docs if d["doc_id"] not in carried.ranges]
        return carried.doc_words | document_words(added)
    return document_words([d["text"] for d in docs])


def _carried_people(carried: Carried | None, doc_id: str) -> tuple[dict[str, str], str] | None:
    """Who ``doc_id`` names, as the previous cache stored it (None when it is not carried)."""
    if carried is None or doc_id not in carried.ranges:
        return None
    return carried.previous.sentences.doc_people(doc_id)


def _distinct_term_ids(ids: np.ndarray, offsets: np.ndarray, n_vocab: int) -> np.ndarray:
    """The vocabulary id of each distinct (sentence, term) pair: counted per id, how many
    sentences hold each term (``df.npy``, ``CorpusTerms.document_frequencies``)."""
    if not len(ids):
        return np.zeros(0, np.int64)
    sentence_of = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    return np.unique(sentence_of * max(1, n_vocab) + ids) % max(1, n_vocab)


def _write_corpus_facts(folder: Path, rows: list[tuple], sent_texts: list[str], terms: list[list[str]],
                        sent_words: list[list[str]], position: dict[str, int],
                        carried: Carried | None = None) -> None:
    """The corpus facts the answerer and follow-ups read (``core.corpus``), one pass here
    instead of one per question process, each computed by the one function that defines it:
    ``people`` (per document, ``support.document_people``), ``names.json`` (the union of every
    sentence's ``support.sentence_names``), ``entity_labels.json`` (``support.entity_label_index``)
    and ``person_words.json`` (who the documents name, by word: ``followup_lookup``).

    Each fact is a union over documents, so when the previous generation is carried whole
    (documents were only added) its files are merged with the new documents' facts instead
    of being computed again from every sentence."""
    from assistant.answering.support import document_people, entity_label_index, sentence_names
    from assistant.language.conversation import person_words

    grown = carried if carried is not None and carried.grown else None
    todo = [i for i, r in enumerate(rows) if grown is None or r[0] not in grown.ranges]
    sentences = _sentences(rows, sent_texts, todo)
    by_doc: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_doc.setdefault(s.doc_id, []).append(s)
    people_of = {d: _carried_people(carried, d) or document_people(by_doc.get(d, ())) for d in position}
    Blob.write(folder, "people", [json.dumps(people_of[d], ensure_ascii=False) for d in position])
    names: set[str] = set()
    for i, s in zip(todo, sentences, strict=True):
        names |= sentence_names(s, set(terms[i]), sent_words[i], people_of[s.doc_id][1])
    labels = {k: set(v) for k, v in entity_label_index(sentences).items()}
    people: dict[str, set[int]] = {}  # folded word of a PERSON entity -> documents (follow-ups)
    for s in sentences:
        for w in person_words(s):
            people.setdefault(w, set()).add(position[s.doc_id])
    if grown is not None:
        _merge_previous(grown, position, names, labels, people)
    _write_json(folder / "names.json", sorted(names))
    _write_json(folder / "entity_labels.json", {k: sorted(v) for k, v in sorted(labels.items())})
    _write_json(folder / "person_words.json", {w: sorted(d) for w, d in sorted(people.items())})


def _sentences(rows: list[tuple], sent_texts: list[str], todo: list[int]) -> list[Sentence]:
    """Rows ``todo`` as ``Sentence`` objects (what the fact functions read)."""
    from assistant.index.store import entities_from_json

    out = []
    for i in todo:
        r = rows[i]
        out.append(Sentence(doc_id=r[0], sentence_id=r[1], text=sent_texts[i], start=r[2], end=r[3],
                            paragraph=r[4], is_heading=bool(r[5]),
                            entities=entities_from_json(r[6]) if r[6] else ()))
    return out


def _merge_previous(carried: Carried, position: dict[str, int], names: set[str],
                    labels: dict[str, set[str]], people: dict[str, set[int]]) -> None:
    """Add the previous generation's names, entity labels and person words (its document
    positions renumbered to the new order) to the new documents' ones."""
    names |= carried.names
    for k, v in carried.labels.items():
        labels.setdefault(k, set()).update(v)
    ids = carried.previous.documents.ids
    for w, docs in carried.person_words.items():
        people.setdefault(w, set()).update(position[ids[p]] for p in docs)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
