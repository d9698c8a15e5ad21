"""Child process for ``test_ingest_kill.py``: ingest, optionally SIGKILL itself at the Nth write.

    python tests/ingest_kill_driver.py build DIR           # the starting index (version 1)
    python tests/ingest_kill_driver.py run DIR N           # ingest version 2, kill -9 before write N
    python tests/ingest_kill_driver.py count DIR           # ingest version 2, print how many writes
    python tests/ingest_kill_driver.py check DIR...        # one JSON line per index: usable? lost?

A "write" is any call that changes the index: a Chroma add/upsert/delete, writing the query
cache, or switching its CURRENT pointer. Uses a hashing embedder (no model) for speed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from assistant.core.settings import Settings  # isort: skip  (first: it pins threads and telemetry)

import numpy as np

N_DOCS = 8


def text(i: int, version: int) -> str:
    words = ["alpha", "beta", "gamma", "delta", "harbour", "bridge", "council", "budget"]
    body = " ".join(f"Document {i} sentence {k} of version {version} is about {words[(i + k) % 8]}."
                    for k in range(3 + i % 3))
    return body


def version1() -> dict[str, str]:
    return {f"doc{i}.txt": text(i, 1) for i in range(N_DOCS - 2)}


def version2() -> dict[str, str]:
    """Four documents changed, two unchanged, two new."""
    v = version1()
    v.update({f"doc{i}.txt": text(i, 2) for i in range(4)})
    v.update({f"doc{i}.txt": text(i, 1) for i in range(N_DOCS - 2, N_DOCS)})
    return v


class HashEmbedder:
    dim = 384

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-9)
        return out


def settings(folder: str) -> Settings:
    return replace(Settings.from_env(), index_dir=Path(folder), chroma_host="")


def ingest(folder: str, texts: dict[str, str]) -> None:
    import ingest.pipeline as pipeline
    from assistant.core.types import Document
    from ingest.loaders import content_hash

    pipeline.GROUP_SENTENCES = 2  # one document per group, so kills land between committed groups too
    if os.environ.get("DOCQA_KILL_STREAM") == "1":  # documents over 200 characters go piece by piece
        import ingest.stream as stream

        pipeline.STREAM_CHARS = 200
        stream.PIECE_CHARS = 120  # two sentences a piece: several pending writes per document
    docs = [Document(n, t, n, content_hash(t), n) for n, t in sorted(texts.items())]
    pipeline.Ingestor(settings(folder), embedder=HashEmbedder(), with_entities=False).ingest_documents(docs)


def count_writes(kill_at: int | None) -> list[int]:
    """Wrap every index-changing call; SIGKILL this process just before call ``kill_at``."""
    import chromadb.api.models.Collection as chroma_collection

    import assistant.index.cache_build as cache_build
    import assistant.index.snapshot as snapshot

    calls = [0]

    def wrap(owner: object, name: str) -> None:
        original = getattr(owner, name)

        def counted(*args: object, **kwargs: object) -> object:
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)

        setattr(owner, name, counted)

    for method in ("add", "upsert", "delete"):
        wrap(chroma_collection.Collection, method)
    wrap(cache_build, "write_cache")
    wrap(cache_build, "write_current")
    wrap(snapshot, "write_current")
    return calls


def check(folder: str) -> dict[str, object]:
    """Is the index usable right after the kill, did it lose anything, does a re-run recover?"""
    from assistant.index.index_view import read_snapshot
    from assistant.index.store import get_collections, open_client
    from ingest.sentences import split_sentences

    v1, v2 = version1(), version2()
    result: dict[str, object] = {"dir": folder}

    def problems(snap: object) -> list[str]:
        out = []
        docs = snap.documents  # type: ignore[attr-defined]
        for name in v1:
            if name not in docs:
                out.append(f"lost {name}")
        for name in docs:
            if docs[name].text not in (v1.get(name), v2.get(name)):
                out.append(f"wrong text {name}")
        per_doc: dict[str, int] = {}
        for s in snap.sentences:  # type: ignore[attr-defined]
            per_doc[s.doc_id] = per_doc.get(s.doc_id, 0) + 1
            if docs[s.doc_id].text[s.start : s.end] != s.text:
                out.append(f"bad offsets {s.doc_id}#{s.sentence_id}")
        for name in docs:
            if per_doc.get(name, 0) != len(split_sentences(docs[name].text, name)):
                out.append(f"incomplete {name}")
        return out

    try:
        result["cache"] = problems(read_snapshot(settings(folder)))
        client = open_client(settings(folder))
        result["chroma"] = problems(read_snapshot(settings(folder), client=client))
    except Exception as exc:
        result["unusable"] = f"{type(exc).__name__}: {exc}"
        return result
    ingest(folder, v2)  # what a user does after a crash: run the same command again
    snap = read_snapshot(settings(folder))
    cols = get_collections(open_client(settings(folder)), settings(folder), create=False)
    expected = sum(len(split_sentences(t, n)) for n, t in v2.items())
    result["recovered"] = (
        {d: snap.documents[d].text for d in snap.documents} == v2
        and len(snap.sentences) == expected == cols.sentences.count()
        and cols.documents.count() == len(v2)
    )
    return result


def main(argv: list[str]) -> int:
    mode, folder = argv[0], argv[1]
    if mode == "build":
        ingest(folder, version1())
    elif mode == "count":
        calls = count_writes(None)
        ingest(folder, version2())
        print(calls[0])
    elif mode == "run":
        count_writes(int(argv[2]))
        ingest(folder, version2())
    elif mode == "check":
        for f in argv[1:]:
            print(json.dumps(check(f)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
