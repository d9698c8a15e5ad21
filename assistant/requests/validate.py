"""Validation and clean-up of everything a caller passes to ``ask()``, before anything else sees it.

Each function returns a clean value or raises ``QuestionError`` with a one-line message that
shows the bad value, which ``Assistant.ask`` turns into a refused ``Answer`` (``ask`` never
raises for bad input). Questions are NFKC-normalised, so "Ｗｈｅｒｅ" and "𝐖𝐡𝐞𝐫𝐞" are the
plain word; documents need no such step for search because ``text.fold`` already applies the
compatibility decomposition (NFKD) to both sides, and their offsets are never touched.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from numbers import Integral

from assistant.backends.registry import backend_names
from assistant.core.errors import QuestionError
from assistant.core.types import Message

BACKENDS = backend_names()  # at import; ``clean_backend`` asks the registry at call time
# C0/C1 controls, zero-width and bidi-control characters, line/paragraph separators, BOM.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2028\u2029\ufeff]"
)
# Lone surrogates: undecodable bytes from a shell (b"\xff" -> "\udcff") or broken UTF-16.
# They cannot be encoded to UTF-8, which every tokenizer needs.
_SURROGATE = re.compile("[\ud800-\udfff]")
RAW_FACTOR = 100  # raw text this many times the limit is refused before any clean-up work


def clean_text(text: str, nfkc: bool = True) -> str:
    """``text`` without lone surrogates or control characters, spaces collapsed, and (``nfkc``)
    NFKC-normalised; without it, the text as the user sees it (``Answer.question``)."""
    text = _SURROGATE.sub(" ", text)
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", text) if nfkc else text)
    return " ".join(text.split())


def clean_question(raw: object, max_chars: int) -> str:
    """Return a usable question or raise ``QuestionError`` with a message for the user."""
    if raw is None:
        raise QuestionError("Please type a question.")
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise QuestionError("The question is binary data, not text. Please type a question.") from None
    if not isinstance(raw, str):
        raise QuestionError(f"The question must be text, not {type(raw).__name__}.")
    if len(raw) > max_chars * RAW_FACTOR:
        raise QuestionError(_too_long(len(raw), max_chars))
    text = clean_text(raw)
    if not text:
        raise QuestionError("Please type a question: the message was empty.")
    if len(text) > max_chars:
        raise QuestionError(_too_long(len(text), max_chars))
    letters = sum(ch.isalpha() for ch in text)
    if letters == 0:
        raise QuestionError(
            'The question has no words in it. Please ask in words, e.g. "Where was the meeting held?"'
        )
    if letters / max(1, len(text)) < 0.3 and len(text) > 40:
        raise QuestionError("That does not look like a question (mostly symbols or binary data).")
    return text


def _too_long(n: int, max_chars: int) -> str:
    return (
        f"The question is {n:,} characters long; please keep it under "
        f"{max_chars:,} characters (ask about one thing at a time)."
    )


def clean_history(history: object, max_messages: int, max_chars: int) -> list[Message]:
    """The conversation as ``Message`` objects: the latest ``max_messages`` only (follow-ups are
    resolved against the last exchange), refused when those hold over ``max_chars`` characters."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, bytearray, Mapping)) or not isinstance(history, Iterable):
        raise QuestionError(
            "history must be a list of messages like {'role': 'user', 'content': '...'}, "
            f"not {type(history).__name__}"
        )
    items = list(history)[-max_messages:] if max_messages > 0 else []
    messages = []
    for i, item in enumerate(items):
        try:
            m = Message.coerce(item)
        except (TypeError, ValueError) as exc:
            raise QuestionError(_short(str(exc))) from None
        except Exception as exc:  # a content object whose str() fails: still the caller's input
            raise QuestionError(f"history item {i} cannot be read as text ({type(exc).__name__})") from None
        messages.append(Message(role=m.role, content=clean_text(m.content)))
    total = sum(len(m.content) for m in messages)
    if total > max_chars:
        raise QuestionError(
            f"The conversation so far is {total:,} characters long, over the {max_chars:,}-character "
            "limit; please start a new chat (Clear chat) and ask again."
        )
    return messages


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def clean_top_k(value: object, default: int, maximum: int) -> int:
    """``top_k`` as an int from 1 to ``maximum`` (``None`` -> ``default``; 8.0 from a slider is 8)."""
    if value is None:
        return default
    whole = isinstance(value, Integral) and not isinstance(value, bool)
    whole = whole or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    k = int(value) if whole else None  # type: ignore[call-overload]
    if k is None or not 1 <= k <= maximum:
        raise QuestionError(f"top_k must be a whole number from 1 to {maximum}, not {_show(value)}")
    return k


def clean_doc_ids(value: object) -> list[str] | None:
    """Document ids to limit the answer to, without duplicates; ``None`` (or empty) for all."""
    if value is None:
        return None
    if isinstance(value, str):
        raise QuestionError(f"doc_ids must be a list of document ids, e.g. [{_show(value)}], not one string")
    if isinstance(value, (bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise QuestionError(f"doc_ids must be a list of document ids, not {_show(value)}")
    items = list(value)
    bad = [d for d in items if not isinstance(d, str)]
    if bad:
        raise QuestionError(f"doc_ids must hold document ids (text), not {_show(bad[0])}")
    ids = list(dict.fromkeys(items))
    if "" in ids:
        raise QuestionError("doc_ids holds an empty document id ''")
    return ids or None


def clean_backend(value: object, default: str) -> str:
    """The answer backend's name: one of ``BACKENDS`` (``None`` -> ``default``)."""
    name = default if value is None else value
    known = backend_names()  # the registry: a registered backend is valid here too
    if not isinstance(name, str) or name not in known:
        raise QuestionError(f"backend must be one of {', '.join(map(repr, known))}, not {_show(name)}")
    return name


def _show(value: object) -> str:
    """A short, safe rendering of a bad value for a one-line message."""
    try:
        text = repr(value)
    except Exception:  # an object whose repr fails is still shown by its type
        text = f"<{type(value).__name__}>"
    text = text if len(text) <= 60 else text[:57] + "..."
    return text if isinstance(value, str) else f"{text} ({type(value).__name__})"
