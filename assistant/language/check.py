"""Does a question read as English and ask about something? If not, say why instead of answering.

Without this check a question in Russian, "the the the" or "(a+)+$" still retrieves *some*
sentence, and the answerer cites it. The signals are general, not lists tuned to questions:

* **script** — most letters outside the Latin script (Cyrillic, Arabic, CJK, ...): the question
  is in another language, and the documents are English;
* **known words** — under half of the judged words are English: a word is known when the
  documents use it, when it is a stopword, or (for words of 4+ letters) when WordNet 3.0 knows
  it (``assistant.language.lexicon``, with its inflection rules). Capitalised unknown words are names and
  are not judged, nor are words of 1-3 letters that neither list knows (WordNet holds many
  short abbreviations, "la", "de", "das", which would make any language look English);
* **repetition** — one word is more than half of four or more words ("where where where");
* **nothing to look for** — every word is a stopword ("the of and to in"); judged only for a
  question that is not a follow-up (there "what else?" is fine).

Without WordNet data the known-words signal is off (the others still work).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable

from assistant.language.text import QUESTION_WORDS, STOPWORDS, fold

_TOKEN = re.compile(r"[^\W\d_]+")
MIN_ENGLISH_SHARE = 0.5
MIN_LATIN_SHARE = 0.5
ENGLISH_ONLY = "the documents are in English, so please ask in English."


def document_words(texts: list[str]) -> frozenset[str]:
    """The lower-case words the documents use (their spelling, accents kept)."""
    return frozenset(w for t in texts for w in _TOKEN.findall(t.lower()))


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def _script_problem(text: str) -> str:
    if text.isascii():
        return ""
    scripts = Counter(_script(ch) for ch in text if ch.isalpha())
    total = sum(scripts.values())
    if not total or scripts["LATIN"] / total >= MIN_LATIN_SHARE:
        return ""
    main = next(s for s, _ in scripts.most_common() if s != "LATIN")
    shown = "CJK (Chinese/Japanese/Korean)" if main == "CJK" else main.title()
    return f"This question is written in {shown} script, but {ENGLISH_ONLY}"


def _wordnet_knows() -> Callable[[str], bool] | None:
    from assistant.language.lexicon import wordnet

    wn = wordnet()
    return (lambda w: bool(wn.lemmas(w))) if wn is not None else None


def _unknown_words(text: str, vocabulary: frozenset[str]) -> tuple[int, list[str]]:
    """(known words, unknown words) among the judged words of ``text``. WordNet is asked only
    when the cheap checks leave the verdict open (most English questions never need it)."""
    known, pending = 0, []
    for token in _TOKEN.findall(text):
        low = token.lower()
        if len(low) == 1:
            continue
        if low in vocabulary or (low.isascii() and (low in STOPWORDS or low in QUESTION_WORDS)):
            known += 1
        elif not (token[0].isupper() or len(low) <= 3):  # else a name, or too short to judge
            pending.append(token)
    if known >= len(pending):
        return known, []  # English enough whatever WordNet says of the rest
    wordnet_knows = _wordnet_knows()
    if wordnet_knows is None:
        return 0, []
    unknown = [t for t in pending if not (t.isascii() and wordnet_knows(t.lower()))]
    return known + len(pending) - len(unknown), unknown


def _is_content(word: str) -> bool:
    return len(word) > 1 and word not in STOPWORDS and word not in QUESTION_WORDS


def language_problem(text: str, vocabulary: frozenset[str]) -> str:
    """Why ``text`` cannot be matched to English documents (a message for the user), or ''."""
    problem = _script_problem(text)
    if problem:
        return problem
    known, unknown = _unknown_words(text, vocabulary)
    if unknown and known / (known + len(unknown)) < MIN_ENGLISH_SHARE:
        shown = ", ".join(f"“{w}”" for w in list(dict.fromkeys(unknown))[:3])
        return f"This question doesn't read as English (I don't recognise {shown}); {ENGLISH_ONLY}"
    tokens = [fold(t) for t in _TOKEN.findall(text)]
    if len(tokens) >= 4:
        word, count = Counter(tokens).most_common(1)[0]
        if count / len(tokens) > 0.5:
            return f"The question repeats “{word}” instead of asking something; please rephrase it."
    return ""


def nothing_to_look_for(text: str) -> str:
    """A message when every word of a standalone question is a stopword ("the of and to in"),
    else ''. Not for follow-ups: "What else?" takes its topic from the conversation."""
    tokens = [fold(t) for t in _TOKEN.findall(text)]
    if any(_is_content(t) for t in tokens):
        return ""
    if re.search(r"\d", text) and sum(len(t) > 1 for t in tokens) >= 2:
        return ""  # "What happened in 2022?": the figure is what to look for
    return (
        "The question has no words that say what to look for; please ask about a person, "
        "a place, a figure or an event in the documents."
    )
