"""The index as the answerer reads it: compact arrays on disk, memory-mapped, built once.

Why: reading every Chroma row into Python lists at start-up made the first answer and the
query process's memory grow with the corpus (3.1 s and 497 MB at 6,308 sentences; importing
chromadb alone takes 1-2 s). Chroma stays the store of record; after each committed change
the index also holds a *query cache*: float32 vectors, int32 offsets, UTF-8 text blobs and a
saved BM25 index, all in one folder named after the manifest's generation token. Opening it
maps files and parses two small JSON files; rows become ``Sentence`` objects only when read.

Layout (``<index>/cache/``): ``CURRENT`` names the live ``gen-<token>/`` folder; a folder is
complete when its ``DONE`` file exists (it is written last, then renamed into place), so a
reader never sees half a cache. With ``CHROMA_HOST`` the cache lives in
``<index>/cache-<host>-<port>/`` and is checked against the server's generation at start.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np

from assistant.core.corpus import CorpusSentences, CorpusTerms
from assistant.core.errors import IndexCorruptError
from assistant.core.lazy_rows import LazyRows
from assistant.core.settings import Settings
from assistant.core.types import Document, Sentence
from assistant.index.store import entities_from_json

# 2: term document frequencies, name vocabulary, dense IVF index; 3: document words; 4: person words;
# 5: entity labels by name key; 6: each document's people; 7: each sentence's words
CACHE_FORMAT = 7
DIM = 384
# sent_rows.npy columns
DOC, SID, START, END, PARA, HEAD = range(6)


class Blob:
    """Variable-length byte strings: one file of bytes plus an int64 offsets array (n + 1)."""

    def __init__(self, folder: Path, name: str) -> None:
        self.offsets = np.load(folder / f"{name}_off.npy", mmap_mode="r").view(np.ndarray)
        path = folder / f"{name}.bin"
        self._data: Any = b""
        if path.stat().st_size:
            with path.open("rb") as f:
                self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def text(self, i: int) -> str:
        a, b = self.offsets[i : i + 2].tolist()
        return self._data[a:b].decode("utf-8") if b > a else ""

    @staticmethod
    def write(folder: Path, name: str, items: Sequence[str]) -> None:
        encoded = [s.encode("utf-8") for s in items]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        (folder / f"{name}.bin").write_bytes(b"".join(encoded))
        np.save(folder / f"{name}_off.npy", offsets)


class PinnedFiles:
    """Files of a cache read on first use (a question, a follow-up), opened when the cache is.

    Why open early: when another ingest makes a new generation, its clean-up deletes this one's
    folder (``cache_build._clean``) while a process may still answer from it. Memory-mapped
    files survive that, and so does a file that is open (it outlives its name), but a file
    opened by name on first use would be gone. A missing file raises ``FileNotFoundError`` here,
    at open, where it is reported as a damaged cache, not in the middle of a question."""

    def __init__(self, folder: Path, names: Iterable[str]) -> None:
        self._files: dict[str, Any] = {}
        try:
            for name in names:
                self._files[name] = (folder / name).open("rb")
        finally:
            self._close = weakref.finalize(self, _close_all, list(self._files.values()))
        self._lock = threading.Lock()

    def read(self, name: str) -> bytes:
        """The whole file ``name`` (any number of times)."""
        with self._lock:
            f = self._files[name]
            f.seek(0)
            return f.read()

    def json(self, name: str) -> Any:
        return json.loads(self.read(name).decode("utf-8"))

    def npy(self, name: str) -> np.ndarray:
        return np.load(io.BytesIO(self.read(name)))


def _close_all(files: list[Any]) -> None:
    for f in files:
        f.close()


class DocumentTable(Mapping[str, Document]):
    """``doc_id -> Document``; a document's text is decoded when it is looked up."""

    temporary: TemporaryCache | None = None  # the folder it reads, when private (``TemporaryCache``)

    def __init__(self, folder: Path, meta: dict[str, Any], pinned: PinnedFiles) -> None:
        self.ids: list[str] = meta["doc_ids"]
        self._sources: list[str] = meta["sources"]
        self._titles: list[str] = meta["titles"]
        self._hashes: list[str] = meta["hashes"]
        self.builder: str = meta.get("builder", "")  # ``cache_carry.builder_key`` of the code that wrote it
        self._position = {d: i for i, d in enumerate(self.ids)}
        self._texts = Blob(folder, "doc_text")
        self._pinned = pinned
        self._memo: dict[str, Document] = {}

    def position(self, doc_id: str) -> int:
        return self._position[doc_id]

    def content_hash(self, doc_id: str) -> str:
        """The stored version's content hash, without decoding the document's text."""
        return self._hashes[self._position[doc_id]]

    def person_words(self) -> dict[str, list[int]]:
        """Folded word of a PERSON entity -> positions of the documents that tag it
        (``followup_lookup``), computed when the cache was built."""
        return self._pinned.json("person_words.json")

    def words(self) -> frozenset[str]:
        """``language.document_words`` of every document, computed when the cache was built
        (1.7 s at 19k documents when a question process computed it)."""
        return frozenset(self._pinned.json("doc_words.json"))

    def __getitem__(self, doc_id: str) -> Document:
        doc = self._memo.get(doc_id)
        if doc is None:
            i = self._position[doc_id]  # KeyError for unknown ids, as a dict would
            doc = Document(doc_id, self._texts.text(i), self._sources[i], self._hashes[i], self._titles[i])
            if len(self._memo) < 256:
                self._memo[doc_id] = doc
        return doc

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._position

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


class SentenceTable(CorpusSentences):
    """Every sentence in (doc_id, sentence_id) order; a row becomes a ``Sentence`` when read."""

    temporary: TemporaryCache | None = None  # the folder it reads, when private (``TemporaryCache``)

    def __init__(self, folder: Path, doc_ids: list[str]) -> None:
        # A plain ndarray view of the map: indexing a np.memmap row costs ~3 us in Python.
        self.rows = np.load(folder / "sent_rows.npy", mmap_mode="r").view(np.ndarray)
        self._doc_ids = doc_ids
        self._texts = Blob(folder, "sent_text")
        self._entities = Blob(folder, "ents")
        self._lazy = LazyRows(len(self.rows), self._make)
        self._runs: tuple[dict[str, int], np.ndarray] | None = None  # doc position, row bounds
        self._people = Blob(folder, "people")
        self._words = IdLists(folder, "words", "words_vocab.json")

    def doc_range(self, doc_id: str) -> range:
        """Rows of ``doc_id`` (empty when unknown): rows are in document order, so a document's
        rows are one run, found by binary search instead of a pass over every sentence."""
        starts, stops = self.doc_ranges([doc_id])
        return range(int(starts[0]), int(stops[0])) if len(starts) else range(0)

    def entities_json(self, i: int) -> str:
        """Sentence ``i``'s entities as stored (``store.entities_to_json``; '' for none)."""
        return self._entities.text(i)

    def sentence_words(self, i: int) -> list[str]:
        """``text.words`` of sentence ``i``, as the cache build computed them."""
        return self._words[i]

    def doc_people(self, doc_id: str) -> tuple[dict[str, str], str] | None:
        """(last-name key -> fullest person name, main actor's key or '') of ``doc_id``, as the
        cache build computed them (``support.document_people``); None for an unknown document."""
        starts, stops = self.doc_ranges([doc_id])
        if not len(starts) or starts[0] == stops[0]:
            return None
        raw = self._people.text(self._runs[0][doc_id])  # type: ignore[index]
        if not raw:
            return {}, ""
        names, salient = json.loads(raw)
        return names, salient

    def doc_starts(self, positions: Sequence[int]) -> np.ndarray:
        """First rows of the documents at these positions (``DocumentTable.position``), which
        must have sentences."""
        self.doc_ranges(())  # builds the bounds once
        assert self._runs is not None
        return self._runs[1][np.asarray(positions, dtype=np.int64)]

    def doc_ranges(self, doc_ids: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(first rows, ends) of the known ones of ``doc_ids``, as arrays (a filter of 19k
        documents costs a dictionary look-up each, no Python loop over rows)."""
        if self._runs is None:  # built once, published in one assignment (thread-safe)
            bounds = np.searchsorted(self.rows[:, DOC], np.arange(len(self._doc_ids) + 1), side="left")
            self._runs = ({d: i for i, d in enumerate(self._doc_ids)}, bounds)
        position, bounds = self._runs
        pos = np.array([p for d in doc_ids if (p := position.get(d)) is not None], dtype=np.int64)
        return bounds[pos], bounds[pos + 1]

    def __len__(self) -> int:
        return len(self._lazy)

    def _make(self, i: int) -> Sentence:
        doc, sid, start, end, para, head = self.rows[i].tolist()
        raw = self._entities.text(i)
        return Sentence(
            doc_id=self._doc_ids[doc], sentence_id=sid, text=self._texts.text(i), start=start, end=end,
            paragraph=para, is_heading=bool(head), entities=entities_from_json(raw) if raw else (),
        )

    @overload
    def __getitem__(self, i: int) -> Sentence: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sentence]: ...
    def __getitem__(self, i: int | slice) -> Sentence | list[Sentence]:
        return self._lazy[i]

    def __iter__(self) -> Iterator[Sentence]:
        # the first full pass materialises every row, later ones are list speed
        return iter(self._lazy.all_rows())


class IdLists(Sequence[list[str]]):
    """A list of strings per sentence, stored as ids into a vocabulary: ``<name>.npy`` (all ids),
    ``<name>_off.npy`` (n + 1 offsets) and a JSON vocabulary; a row is decoded when read."""

    def __init__(self, folder: Path, name: str, vocab_file: str) -> None:
        self._folder = folder
        self.vocab: list[str] = json.loads((folder / vocab_file).read_text(encoding="utf-8"))
        self._ids = np.load(folder / f"{name}.npy", mmap_mode="r")
        self._off = np.load(folder / f"{name}_off.npy", mmap_mode="r")

    def __len__(self) -> int:
        return len(self._off) - 1

    def __getitem__(self, i: int) -> list[str]:  # type: ignore[override]
        v = self.vocab
        return [v[t] for t in self._ids[int(self._off[i]) : int(self._off[i + 1])].tolist()]

    @staticmethod
    def write(
        folder: Path, name: str, vocab_file: str, lists: list[list[str]]
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Save ``lists``; returns (ids, offsets, vocabulary size), vocabulary in first-seen order."""
        vocab: dict[str, int] = {}
        ids = np.array([vocab.setdefault(t, len(vocab)) for ts in lists for t in ts], dtype=np.int32)
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum([len(ts) for ts in lists], out=offsets[1:])
        np.save(folder / f"{name}.npy", ids)
        np.save(folder / f"{name}_off.npy", offsets)
        (folder / vocab_file).write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")
        return ids, offsets, len(vocab)


class TermTable(IdLists, CorpusTerms):
    """Each sentence's ``content_terms`` (stemmed, alias-expanded), stored as vocabulary ids,
    with the corpus statistics the answerer needs (``core.corpus.CorpusTerms``), computed when
    the cache was built instead of from every sentence at a question process's first answer."""

    temporary: TemporaryCache | None = None  # the folder it reads, when private (``TemporaryCache``)

    def __init__(self, folder: Path, pinned: PinnedFiles) -> None:
        super().__init__(folder, "terms", "vocab.json")
        self._pinned = pinned

    def document_frequencies(self) -> dict[str, int]:
        """term -> how many sentences hold it (every vocabulary term is in at least one)."""
        df = self._pinned.npy("df.npy")
        return dict(zip(self.vocab, df.tolist(), strict=True))

    def entity_labels(self) -> dict[str, list[str]]:
        """Name key -> labels of the entities with it (``support.entity_label_index``)."""
        return self._pinned.json("entity_labels.json")

    def corpus_names(self) -> frozenset[str]:
        """Every term and name key of every sentence (``support.sentence_names``)."""
        return frozenset(self._pinned.json("names.json"))


@dataclass
class IndexSnapshot:
    """Everything the answerer needs, as the query cache holds it: documents, sentences and
    their vectors (row i of ``embeddings`` belongs to ``sentences[i]``), each sentence's terms
    with the corpus statistics, all lazy views over memory-mapped files (``open_cache``; an
    index held in memory is written into the same files: ``assistant.index.memory``).
    ``bm25_dir`` is None only for an empty index, ``ivf_dir`` below ``ann_min_sentences``."""

    documents: DocumentTable
    sentences: SentenceTable
    embeddings: np.ndarray
    terms: TermTable
    bm25_dir: Path | None = None
    generation: str = ""
    ivf_dir: Path | None = None  # the dense IVF index (``assistant.retrieval.ivf``), built for large corpora


class TemporaryCache:
    """A private folder for a cache made from rows (``assistant.index.memory``): each of the
    cache's tables holds it (``temporary``), so it is removed when the last of them is collected
    (whatever holds them: a snapshot, a retriever, a support context), or at exit. Deleting
    mapped files is safe: the maps stay readable until closed."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="docqa-memory-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.root, True)


# -- where the cache lives ----------------------------------------------------------------------------
def cache_root(settings: Settings) -> Path:
    if settings.chroma_host:
        return settings.index_dir / f"cache-{settings.chroma_host}-{settings.chroma_port}"
    return settings.index_dir / "cache"


def current_generation(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def open_cache(root: Path, generation: str) -> IndexSnapshot | None:
    """The cache of ``generation``, or None when it is absent or incomplete."""
    folder = root / f"gen-{generation}"
    try:
        if not (folder / "DONE").exists():
            return None
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != CACHE_FORMAT:
            return None
        pinned = PinnedFiles(folder, _LAZY_FILES)
        docs = DocumentTable(folder, meta, pinned)
        sentences = SentenceTable(folder, docs.ids)
        return IndexSnapshot(
            documents=docs,
            sentences=sentences,
            embeddings=np.load(folder / "emb.npy", mmap_mode="r"),
            terms=TermTable(folder, pinned),
            bm25_dir=folder / "bm25" if (folder / "bm25").is_dir() else None,
            generation=generation,
            ivf_dir=_checked_ivf(folder, len(sentences)),
        )
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(
            f"the query cache {folder} is unreadable ({type(exc).__name__}: {exc}); "
            f"rebuild it from the index: python -m ingest --repair --index-dir {root.parent}"
        ) from exc


# read on first use (a question, a follow-up), not when the cache is opened
_LAZY_FILES = ("df.npy", "names.json", "entity_labels.json", "person_words.json", "doc_words.json")
_IVF_FILES = ("centroids.npy", "order.npy", "offsets.npy", "vectors.f32")


def _checked_ivf(folder: Path, n_sentences: int) -> Path | None:
    """``folder/ivf`` when the cache has an IVF index (large corpora only), all of it: every
    file present and ``vectors.f32`` holding every row (``ivf.IVFIndex`` reads it per question)."""
    ivf = folder / "ivf"
    if not ivf.exists():
        return None
    for name in _IVF_FILES:
        if not (ivf / name).is_file():
            raise FileNotFoundError(ivf / name)
    size, want = (ivf / "vectors.f32").stat().st_size, n_sentences * DIM * 4
    if size != want:
        raise ValueError(f"{ivf / 'vectors.f32'} holds {size} bytes, not {want}")
    return ivf


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def write_current(root: Path, generation: str) -> None:
    """Point ``CURRENT`` at ``generation`` atomically (write a temporary file, then rename)."""
    tmp = root / f"CURRENT.tmp-{os.getpid()}"
    tmp.write_text(generation, encoding="utf-8")
    os.replace(tmp, root / "CURRENT")
