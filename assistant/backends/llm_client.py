"""The llm backend's connection to an OpenAI-compatible server: streaming, limits, retries.

Why its own module: ``llm_backend`` decides what the model is shown and what of its reply is
kept; this one only talks to the server, and is where every way a real server misbehaves (a
refused connection, a model still loading, a slow first token, a stream cut off, template
tokens leaking into the text) becomes one of two errors, each naming the URL and the model:

* ``BackendError``: the server cannot be used at all (unreachable, no such model, key
  rejected, client package missing); the user has to fix the configuration;
* ``LLMInterrupted`` (a ``BackendError``): the server was reached but this answer failed (an
  HTTP 5xx, a timeout, a stream that broke off); the backend gives the extractive answer.

Limits come from ``Settings``: ``llm_connect_timeout_s``, ``llm_read_timeout_s`` (the longest
silence, first token included), ``llm_timeout_s`` (the whole reply, retries included),
``llm_retries`` (only before the first token, never for a timeout; ``llm_retry_backoff_s``
apart). Requests go only to ``settings.llm_base_url``; for a loopback URL (the default)
proxy variables such as ``HTTPS_PROXY`` are ignored, so nothing leaves the machine unless the
user named another host.
The client package (the ``llm`` extra) is imported only when a chat function is built.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.core.errors import BackendError

if TYPE_CHECKING:
    from assistant.core.settings import Settings

ChatFn = Callable[[list[dict[str, str]]], str]
"""Takes chat messages ``[{"role": ..., "content": ...}]`` and returns the reply text."""

INSTALL_HINT = "pip install 'docqa-assistant[llm]'"
CONTEXT_WINDOW = 8192
# Chat-template tokens a server should have stopped at (ChatML, Llama 3, Gemma, Mistral): when
# one leaks into the text, what follows is the model writing the next turn itself.
_TEMPLATE_TOKEN = re.compile(r"<\|im_end\|>|<\|im_start\|>|<\|eot_id\|>|<\|endoftext\|>|<end_of_turn>|</s>")
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S)


class LLMInterrupted(BackendError):
    """The server was reached but failed, stalled or broke off while producing this answer."""


def is_loopback(url: str) -> bool:
    """Is ``url``'s host this machine (``localhost``, 127.0.0.0/8, ``::1``)?"""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def where(settings: Settings) -> str:
    """How every message names the server: its URL and the model asked for."""
    return f"the LLM server at {settings.llm_base_url} (model {settings.llm_model!r})"


def how_to_start(settings: Settings) -> str:
    """The fix for a server that cannot be reached: start one, point at one, or do without."""
    return (
        f"start one (e.g. `ollama serve` then `ollama pull {settings.llm_model}`) or point "
        "ASSISTANT_LLM_BASE_URL at a running OpenAI-compatible server (vLLM, llama.cpp server); "
        "or use the default backend: ASSISTANT_BACKEND=extractive"
    )


def _chain_names(exc: BaseException) -> set[str]:
    """The class names of ``exc`` and of the exceptions it was raised from."""
    names: set[str] = set()
    seen: BaseException | None = exc
    while seen is not None and len(names) < 64:
        names |= {cls.__name__ for cls in type(seen).__mro__}
        seen = seen.__cause__ or seen.__context__
    return names


def backend_error(exc: BaseException, settings: Settings, attempts: int = 1,
                  received: int = 0) -> BackendError:
    """Translate a client exception into a message naming the server, the model and the fix.

    ``received``: characters of the reply that had arrived when it failed.
    """
    return _classify(exc, settings, attempts, received)[0]


def _classify(exc: BaseException, settings: Settings, attempts: int, received: int
              ) -> tuple[BackendError, bool]:
    """``(the error to raise, whether another attempt may help)``.

    Matched by class name so the ``openai``/``httpx`` packages need not be imported here. A
    retry may help only before the first token, and never after a timeout (that would double
    the wait) or a 4xx (the request itself is wrong).
    """
    at = where(settings)
    names = _chain_names(exc)
    status = getattr(exc, "status_code", None)
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    if received:
        return LLMInterrupted(
            f"{at} stopped in the middle of its answer ({received} characters received; "
            f"{type(exc).__name__}: {exc})"
        ), False
    if names & {"ConnectError", "ConnectTimeout", "ConnectionRefusedError"}:
        return BackendError(
            f"cannot reach {at}{tried} ({type(exc).__name__}: {exc}); {how_to_start(settings)}"
        ), True
    if names & {"APITimeoutError", "TimeoutException", "TimeoutError"}:
        return LLMInterrupted(
            f"{at} sent nothing for {settings.llm_read_timeout_s:g} s (ASSISTANT_LLM_READ_TIMEOUT_S); "
            "it may be overloaded or still loading the model"
        ), False
    if status == 404 or "NotFoundError" in names:
        return BackendError(
            f"{at} has no such model (HTTP 404); pull it (`ollama pull {settings.llm_model}`) "
            "or set ASSISTANT_LLM_MODEL to a model it serves"
        ), False
    if status in (401, 403) or names & {"AuthenticationError", "PermissionDeniedError"}:
        return BackendError(f"{at} rejected the API key (HTTP {status}); set ASSISTANT_LLM_API_KEY"), False
    if status is not None and 400 <= status < 500:
        return BackendError(f"{at} refused the request (HTTP {status}: {exc})"), False
    detail = f"HTTP {status}: " if status else ""
    return LLMInterrupted(f"{at} failed{tried}: {detail}{type(exc).__name__}: {exc}"), True


def clean_reply(text: str) -> str:
    """The reply without reasoning blocks and without anything after a leaked template token."""
    text = _THINKING.sub("", text)
    m = _TEMPLATE_TOKEN.search(text)
    return (text[: m.start()] if m else text).strip()


def _client_classes() -> tuple[Any, Any]:  # imported late: the extra is optional
    """``(OpenAILike, ChatMessage)``, or ``ImportError`` naming the extra to install."""
    try:
        from llama_index.core.llms import ChatMessage
        from llama_index.llms.openai_like import OpenAILike
    except ImportError as exc:
        raise ImportError(
            "the llm backend needs llama-index-llms-openai-like, which is not installed: "
            f"{INSTALL_HINT} (or use ASSISTANT_BACKEND=extractive)"
        ) from exc
    return OpenAILike, ChatMessage


def openai_like_chat(settings: Settings) -> ChatFn:
    """A ``ChatFn`` streaming from the server of ``settings`` (llama-index's ``OpenAILike``).

    Raises ``ImportError`` naming the extra when the client package is missing; the returned
    function raises ``BackendError`` / ``LLMInterrupted`` as described in the module docstring.
    A new HTTP client per reply: nothing is kept between answers (a CPU model takes seconds
    per reply, against about a millisecond to build the client).
    """
    openai_like, chat_message = _client_classes()

    def chat(messages: list[dict[str, str]]) -> str:
        import httpx

        deadline = time.monotonic() + settings.llm_timeout_s
        timeout = httpx.Timeout(settings.llm_read_timeout_s, connect=settings.llm_connect_timeout_s)
        prompt = [chat_message(role=m["role"], content=m["content"]) for m in messages]
        attempts = max(1, settings.llm_retries + 1)
        earlier: BackendError | None = None  # the previous attempt's failure
        for attempt in range(1, attempts + 1):
            received: list[str] = []
            try:
                with httpx.Client(trust_env=not is_loopback(settings.llm_base_url), timeout=timeout) as http:
                    llm = openai_like(
                        model=settings.llm_model,
                        api_base=settings.llm_base_url,
                        api_key=settings.llm_api_key,
                        is_chat_model=True,
                        context_window=CONTEXT_WINDOW,
                        temperature=0.0,
                        max_tokens=settings.llm_max_tokens,
                        timeout=settings.llm_read_timeout_s,
                        max_retries=0,  # retried here, and only where a retry can help
                        http_client=http,
                        additional_kwargs={"timeout": timeout},  # per phase: connect, then silence
                    )
                    if not _read_stream(llm.stream_chat(prompt), received, deadline, settings):
                        # a server that ignores ``stream``: its reply came as one JSON body
                        received.append(str(llm.chat(prompt).message.content or ""))
                    return clean_reply("".join(received))
            except BackendError:
                raise
            except Exception as exc:
                error, retryable = _classify(exc, settings, attempt, len("".join(received)))
            if isinstance(earlier, LLMInterrupted) and not isinstance(error, LLMInterrupted):
                # it was there for this question and is gone now: it died while answering
                error = LLMInterrupted(f"{where(settings)} went away while answering ({earlier}; "
                                       "then it could no longer be reached)")
            pause = settings.llm_retry_backoff_s * attempt
            if attempt == attempts or not retryable or time.monotonic() + pause >= deadline:
                raise error from None
            earlier = error
            time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    return chat


def _read_stream(stream: Iterable[Any], received: list[str], deadline: float, settings: Settings) -> int:
    """Collect the streamed deltas into ``received`` and count the events; ``LLMInterrupted``
    past the deadline (the stream is closed, so the server can stop generating)."""
    events = 0
    for part in stream:
        events += 1
        received.append(str(getattr(part, "delta", "") or ""))
        if time.monotonic() > deadline:
            close = getattr(stream, "close", None)
            if callable(close):
                close()
            raise LLMInterrupted(
                f"{where(settings)} did not finish its answer within {settings.llm_timeout_s:g} s "
                f"(ASSISTANT_LLM_TIMEOUT_S; {len(''.join(received))} characters received)"
            )
    return events
