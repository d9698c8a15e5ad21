"""The trained reader (an experiment, not part of the product): does this sentence answer the
question, and where is the answer?

Why it left the product: trained on the CPU here it ranked no better than the hybrid retrieval
and cost ~100 ms a question (``train/READER.md``); the answerer's decisions are now learned by the
small models of ``assistant.answering.decision`` instead. Kept so the experiment can be re-run.

A MiniLM-L6 cross-encoder (trained by ``train/reader_train.py`` on public SQuAD 2.0 pairs,
model card in ``train/READER.md``) reads the question together with a
candidate sentence and the tail of the sentence before it, and gives

* ``prob`` — P(the sentence holds the answer), the learned support score, and
* start/end logits over the sentence's tokens — where the answer span sits, used to choose
  the short answer among the candidates the extractor proposes (or alone, for what-questions).

Why onnxruntime int8 and not torch: importing torch costs about a second and a few hundred
MB in the question process, and an fp32 forward over ~8 candidates took 0.3-0.8 s on two
cores; the int8 graph (``train/reader_export.py``) is several times faster (``make bench``).
onnxruntime is already installed (chromadb needs it). The shipped graph holds only what
training changed: its input is the word embeddings, looked up here in the frozen matrix of
the packaged all-MiniLM-L6-v2 weights, so nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.core.settings import default_model_path

MODEL_DIR = Path(__file__).resolve().parent / "out" / "reader"


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one candidate sentence.

    ``span`` is the best answer span as character offsets into the sentence text (``(0, 0)``
    when the reader finds none); ``span_score`` its start+end logit minus the no-answer score.
    """

    prob: float
    span: tuple[int, int] = (0, 0)
    span_score: float = 0.0
    start_logits: tuple[float, ...] = ()
    end_logits: tuple[float, ...] = ()
    offsets: tuple[tuple[int, int], ...] = ()  # per sentence token: character offsets in the sentence


def second_text(sentence: str, previous: str, context_words: int) -> str:
    """The candidate first (so answer offsets stay put), then the tail of its previous sentence.

    Training (``train/reader_train.py``) builds its inputs with this same function.
    """
    if not previous or context_words <= 0:
        return sentence
    tail = " ".join(previous.split()[-context_words:])
    return f"{sentence} [SEP] {tail}"


class Reader:
    """NumPy forward pass of the shipped reader; load once, call ``read`` per question."""

    def __init__(
        self, model_dir: str | Path | None = None, base_path: str | Path | None = None, threads: int = 2
    ) -> None:
        import onnxruntime as ort
        from safetensors import safe_open
        from tokenizers import Tokenizer

        model_dir = Path(model_dir or MODEL_DIR)
        base = Path(base_path or default_model_path())
        meta_file = model_dir / "reader.json"
        if not meta_file.exists():
            raise FileNotFoundError(f"no trained reader in {model_dir}; run `make train-reader`")
        self.meta = json.loads(meta_file.read_text(encoding="utf-8"))
        onnx_file = model_dir / self.meta.get("runtime", {}).get("file", "reader.int8.onnx")
        if not onnx_file.exists():
            raise FileNotFoundError(f"no {onnx_file.name} in {model_dir}; run `make train-reader`")
        with safe_open(str(base / "model.safetensors"), framework="numpy") as fh:
            self._words = fh.get_tensor("embeddings.word_embeddings.weight").astype(np.float32)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        self._max_len = int(self.meta.get("max_len", 128))
        self._context = int(self.meta.get("context_tokens", 24))
        self.spans = self.has_spans(self.meta)
        self._tok = Tokenizer.from_file(str(base / "tokenizer.json"))
        self._tok.enable_truncation(self._max_len, strategy="only_second")
        self._tok.no_padding()
        self._lock = threading.Lock()

    @staticmethod
    def has_spans(meta: dict) -> bool:
        """A model trained without span loss (``--span-weight 0``) has an untrained span head:
        its readings carry no span, so every short-answer choice stays with the rules."""
        return float(meta.get("train", {}).get("span_weight", 1.0)) > 0

    # -- the API ---------------------------------------------------------------------
    def read(
        self, question: str, candidates: list[tuple[str, str]], max_span_tokens: int = 16
    ) -> list[Reading]:
        """One batched forward over ``(sentence, previous sentence)`` candidates for ``question``."""
        if not candidates:
            return []
        texts = [(question, second_text(s, prev, self._context)) for s, prev in candidates]
        with self._lock:
            encs = self._tok.encode_batch(texts)
        n = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), n), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for r, e in enumerate(encs):
            ids[r, : len(e.ids)] = e.ids
            types[r, : len(e.ids)] = e.type_ids
            mask[r, : len(e.ids)] = 1
        embeds = self._words[ids]
        logits, span = self._session.run(None, {"embeds": embeds, "types": types, "mask": mask})
        out = []
        for r, (e, (sentence, _prev)) in enumerate(zip(encs, candidates, strict=True)):
            prob = float(1.0 / (1.0 + math.exp(-float(logits[r, 0]))))
            if not self.spans:
                out.append(Reading(prob=prob))
                continue
            out.append(self._span(e, sentence, span[r, :, 0], span[r, :, 1], prob, max_span_tokens))
        return out

    @staticmethod
    def _span(enc, sentence: str, start: np.ndarray, end: np.ndarray, prob: float, max_len: int) -> Reading:
        """The best span inside the sentence part (not the context tail) of one encoding."""
        toks = [
            t
            for t, (sid, (a, b)) in enumerate(zip(enc.sequence_ids, enc.offsets, strict=True))
            if sid == 1 and b <= len(sentence) and b > a
        ]
        if not toks:
            return Reading(prob)
        s_l = start[toks].astype(np.float64)
        e_l = end[toks].astype(np.float64)
        pair = s_l[:, None] + e_l[None, :]
        k = len(toks)
        valid = np.triu(np.ones((k, k), dtype=bool)) & ~np.triu(np.ones((k, k), dtype=bool), max_len)
        pair = np.where(valid, pair, -np.inf)
        i, j = np.unravel_index(int(np.argmax(pair)), pair.shape)
        offs = tuple(enc.offsets[t] for t in toks)
        null = float(start[0] + end[0])
        return Reading(
            prob=prob,
            span=(offs[i][0], offs[j][1]),
            span_score=float(pair[i, j]) - null,
            start_logits=tuple(float(v) for v in s_l),
            end_logits=tuple(float(v) for v in e_l),
            offsets=offs,
        )

    @staticmethod
    def span_score(reading: Reading, start: int, end: int) -> float:
        """Score of a given character span (a typed candidate) under ``reading``'s logits.

        The best start logit among tokens starting inside the span plus the best end logit
        among tokens ending inside it; ``-inf`` when no token falls inside.
        """
        inside = [t for t, (a, b) in enumerate(reading.offsets) if a >= start and b <= end and b > a]
        if not inside:
            return float("-inf")
        return max(reading.start_logits[t] for t in inside) + max(reading.end_logits[t] for t in inside)


_shared: dict[str, Reader] = {}
_shared_lock = threading.Lock()


def get_reader(model_dir: str | Path | None = None, threads: int = 2) -> Reader:
    """One shared reader per model folder (loaded once per process)."""
    key = str(model_dir or MODEL_DIR)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Reader(key, threads=threads)
        return _shared[key]
