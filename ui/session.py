"""The conversation kept in the browser's storage, so a page reload does not lose it.

``gr.BrowserState`` holds plain JSON; this module turns the page's state (the owner token,
the chat's HTML messages, the plain-text history for ``ask()``, and the ``Answer`` behind each
assistant message) into that JSON and back. Anything malformed in storage is dropped rather
than trusted: a stale or edited entry must not break the page.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from assistant import Answer, Citation

Messages = list[dict[str, str]]
Answers = dict[int, Answer]  # chat message index -> the answer shown there
MAX_MESSAGES = 200  # keeps browser storage small; older turns are dropped first
_OWNER = re.compile(r"[0-9a-f]{16}")
_CITE_FIELDS = {f.name for f in fields(Citation)}
# the decision trace is for developers (eval, DEBUG): not kept in the browser's storage
_ANSWER_FIELDS = {f.name for f in fields(Answer)} - {"trace"}


def _citation(raw: Any) -> Citation:
    return Citation(**{k: v for k, v in dict(raw).items() if k in _CITE_FIELDS})


def _stored(answer: Answer) -> dict[str, Any]:
    return {k: v for k, v in answer.to_dict().items() if k in _ANSWER_FIELDS}


def answer_from_dict(raw: dict[str, Any]) -> Answer:
    """The inverse of ``Answer.to_dict`` (raises on a malformed entry)."""
    data = {k: v for k, v in raw.items() if k in _ANSWER_FIELDS}
    data["citations"] = [_citation(c) for c in data.get("citations", [])]
    data["related"] = [_citation(c) for c in data.get("related", [])]
    return Answer(**data)


def _text(content: Any) -> str | None:
    """A message's content as one string: Gradio hands the chat back as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [t for p in content if isinstance(p, dict) and isinstance(t := p.get("text"), str)]
        return "".join(parts) if len(parts) == len(content) else None
    return None


def messages(raw: Any) -> Messages:
    """``{"role", "content": str}`` messages from the chatbot's value or from storage; others dropped."""
    out: Messages = []
    for m in raw if isinstance(raw, list) else []:
        content = _text(m.get("content")) if isinstance(m, dict) else None
        if content is not None and m.get("role") in ("user", "assistant"):
            out.append({"role": m["role"], "content": content})
    return out


def dump(owner: str, chat: Messages, history: Messages, answers: Answers) -> dict[str, Any]:
    """What the browser stores: JSON only, the newest ``MAX_MESSAGES`` messages."""
    cut = max(0, len(chat) - MAX_MESSAGES)
    return {"owner": owner, "chat": chat[cut:], "history": history[-MAX_MESSAGES:],
            "answers": {str(i - cut): _stored(a) for i, a in answers.items() if i >= cut}}


def load(saved: Any) -> tuple[str, Messages, Messages, Answers]:
    """(owner, chat, history, answers) from what the browser stored; empty parts when invalid."""
    saved = saved if isinstance(saved, dict) else {}
    owner = saved.get("owner") if isinstance(saved.get("owner"), str) else ""
    owner = owner if _OWNER.fullmatch(owner or "") else ""
    chat, history = messages(saved.get("chat")), messages(saved.get("history"))
    answers: Answers = {}
    raw_answers = saved.get("answers")
    for key, raw in (raw_answers.items() if isinstance(raw_answers, dict) else []):
        try:
            i = int(key)
            if 0 <= i < len(chat) and chat[i]["role"] == "assistant":
                answers[i] = answer_from_dict(raw)
        except (TypeError, ValueError):
            continue
    return owner, chat, history, answers
