"""Small, dependency-free text tools shared by retrieval and answering.

Tokens are lower-cased words with a light suffix stemmer, so "troops"/"troop" and
"sanctions"/"sanction" meet in BM25 and in support checks. ``ALIASES`` is general world
knowledge (country names, their demonyms and common abbreviations) — never facts of one
document — so "the Americans" finds "the US" and "the Italian one" finds "Italy".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "than",
        "so",
        "as",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "too",
        "very",
        "can",
        "will",
        "just",
        "should",
        "now",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "would",
        "could",
        "might",
        "must",
        "shall",
        "may",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "also",
        "s",
        "t",
        "don't",
        "didn't",
        "doesn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "won't",
        "there's",
        "it's",
        "let's",
        "tell",
        "please",
        "according",
        "article",
        "text",
        "say",
        "says",
        "said",
        "document",
        "documents",
        "report",
        "reports",
        "reported",
        "story",
        "piece",
        "mention",
        "mentioned",
        "mentions",
        "named",
        "name",
        "given",
        "roughly",
        "approximately",
        "exactly",
        "actually",
        "really",
        "currently",
        # light verbs and fillers: they carry no topic, so a question is not judged on them
        "hold",
        "held",
        "holds",
        "happen",
        "happened",
        "happens",
        "take",
        "took",
        "taken",
        "place",
        "occur",
        "occurred",
        "get",
        "got",
        "make",
        "made",
        "go",
        "went",
        "come",
        "came",
        "done",
        "put",
        "thing",
        "things",
        "kind",
        "way",
        "give",
        "gives",
        "gave",
        "giving",
        "still",
    ]
)

# Question words and light verbs that carry no topic.
QUESTION_WORDS = frozenset(
    ["what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much"]
)

_WORD = re.compile(r"[A-Za-z\u00C0-\u024F_]+(?:['’][A-Za-z]+)?|\d+(?:[.,]\d+)*")


def fold(text: str) -> str:
    """Lower-case and strip accents ("Zelenski" == "zelenski", "café" == "cafe")."""
    if text.isascii():  # nothing to decompose: the same result without a pass per character
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


IRREGULAR = {
    "began": "begin",
    "begun": "begin",
    "said": "say",
    "says": "say",
    "told": "tell",
    "gave": "give",
    "given": "give",
    "went": "go",
    "gone": "go",
    "took": "take",
    "taken": "take",
    "made": "make",
    "held": "hold",
    "met": "meet",
    "meeting": "meet",
    "sent": "send",
    "lost": "lose",
    "won": "win",
    "paid": "pay",
    "spent": "spend",
    "brought": "bring",
    "bought": "buy",
    "sold": "sell",
    "led": "lead",
    "fought": "fight",
    "thought": "think",
    "knew": "know",
    "known": "know",
    "saw": "see",
    "seen": "see",
    "came": "come",
    "became": "become",
    "left": "leave",
    "kept": "keep",
    "felt": "feel",
    "found": "find",
    "got": "get",
    "gotten": "get",
    "ran": "run",
    "chose": "choose",
    "chosen": "choose",
    "spoke": "speak",
    "spoken": "speak",
    "wrote": "write",
    "written": "write",
    "rose": "rise",
    "risen": "rise",
    "fell": "fall",
    "fallen": "fall",
    "struck": "strike",
    "withdrew": "withdraw",
    "loss": "lose",
    "losses": "lose",
    "men": "man",
    "women": "woman",
    "people": "person",
    "children": "child",
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light English suffix stripper (predictable, no dictionary)."""
    w = IRREGULAR.get(word, word)
    if w != word:
        return w
    if len(w) <= 3 or w[0].isdigit():
        return w
    for suffix, repl in (
        ("ically", "ic"),
        ("ical", "ic"),
        ("ations", "ate"),
        ("ation", "ate"),
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ness", ""),
        ("ments", "ment"),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)] + repl
            break
    if w.endswith("e") and len(w) >= 4:
        w = w[:-1]
    return w


_MULTIWORD = re.compile(
    r"\b(european union|united states|united kingdom|united nations|white house|"
    r"soviet union|north korea|south korea|new zealand|south africa|saudi arabia)\b"
)


# Idioms whose words mislead term matching ("took part" is not about a "part").
_IDIOM_WORDS = {"part": "participate", "place": "happen"}
_IDIOMS = re.compile(r"\b((?:take|takes|took|taken|taking) (?:part|place))\b")


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """The word tokens of ``text`` as ``words`` finds them, with their offsets in ``text``:
    (start, end, folded token); no multi-word names, no possessive dropped."""
    return [(m.start(), m.end(), fold(m.group(0))) for m in _WORD.finditer(text)]


def words(text: str) -> list[str]:
    """Folded word tokens, stopwords kept (numbers keep their separators); multi-word country
    names become one token ("united states" -> "united_states")."""
    return list(_words(text))


# A question's words and each candidate sentence's are asked for by several features of one
# answer; cached per text (a fresh list each time: callers may change theirs).
@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    out = []
    folded = _MULTIWORD.sub(lambda m: m.group(0).replace(" ", "_"), fold(text))
    folded = _IDIOMS.sub(lambda m: _IDIOM_WORDS[m.group(1).split()[-1]], folded)
    for m in _WORD.finditer(folded):
        w = m.group(0).replace("’", "'")
        out.append(w[:-2] if w.endswith("'s") else w)
    return tuple(out)


# Durations said two ways: "twelve months" is "a year" (both sides of a comparison are
# rewritten, so a question and a sentence meet on the same words).
_SAME_DURATION = [
    (re.compile(r"(?<![\d.,])\b(?:twelve|12) months?\b", re.IGNORECASE), "a year"),
    (re.compile(r"(?<![\d.,])\b(?:twenty[- ]four|24) hours?\b", re.IGNORECASE), "a day"),
    (re.compile(r"(?<![\d.,])\b(?:seven|7) days?\b", re.IGNORECASE), "a week"),
    (re.compile(r"(?<![\d.,])\b(?:fifty[- ]two|52) weeks?\b", re.IGNORECASE), "a year"),
]


def same_durations(text: str) -> str:
    """``text`` with durations written in their largest unit ("after twelve months" ->
    "after a year")."""
    for pattern, plain in _SAME_DURATION:
        text = pattern.sub(plain, text)
    return text


def content_terms(text: str) -> list[str]:
    """Stemmed tokens without stopwords: what BM25 and support checks compare."""
    return list(_content_terms(text))


@lru_cache(maxsize=8192)
def _content_terms(text: str) -> tuple[str, ...]:
    out = []
    for w in words(same_durations(text)):
        if w in STOPWORDS or w in QUESTION_WORDS:
            continue
        out.append(expand_alias(w) if w in _alias_index() else stem(w))
    return tuple(out)


# Abbreviations, older names and seats of government the public country table (below) does not
# give, each group mapping to one key; the table adds every other country. No seat of
# government or other word that only one question set needed ("elysee", "kremlin", "continent");
# tests/test_eval_lexicon.py checks every entry against a public country table and the documents.
_ALIAS_GROUPS = [
    "us usa u.s u.s.a united_states america american americans",
    "uk u.k britain british united_kingdom england english",
    "eu european_union",
    "europe european europeans",
    "russia russian russians moscow",
    "ukraine ukrainian ukrainians kyiv kiev",
    "france french",
    "germany german germans",
    "italy italian italians",
    "poland polish poles",
    "spain spanish spaniards",
    "hungary hungarian hungarians",
    "slovakia slovak slovakian slovaks",
    "china chinese beijing",
    "japan japanese",
    "canada canadian canadians",
    "turkey turkish turks",
    "netherlands dutch",
    "belgium belgian belgians",
    "sweden swedish swedes",
    "norway norwegian norwegians",
    "finland finnish finns",
    "denmark danish danes",
    "portugal portuguese",
    "greece greek greeks",
    "austria austrian austrians",
    "ireland irish",
    "australia australian australians",
    "india indian indians",
    "brazil brazilian brazilians",
    "mexico mexican mexicans",
    "israel israeli israelis",
    "iran iranian iranians",
]
COUNTRY_TABLE = Path(__file__).resolve().parents[1] / "data" / "countries.tsv"
_NO_PLURAL = ("s", "sh", "ch", "ese", "x", "z")  # "Swiss", "Irish", "Dutch", "Chinese", "Manx"


def country_rows(path: Path = COUNTRY_TABLE) -> list[list[str]]:
    """The public country table's rows (columns: common, official, cca2, cca3, capitals,
    demonym_m, demonym_f, alt_spellings), without its comment and header lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in [x for x in lines if x and not x.startswith("#")][1:]]


def _table_groups(path: Path = COUNTRY_TABLE) -> list[str]:
    """One alias group per country of the public table (mledoze/countries, ODbL): its common
    name and its demonyms with their plurals ("kenya kenyan kenyans"), one-word forms only.

    Why the whole table and not a hand list: a document about any country must match its
    demonyms ("Kenyans" in a question, "Kenyan" in the text), not only the countries one
    article named. A demonym the table gives to several countries ("Congolese", "Dominican")
    is left out: it cannot say which one is meant."""
    rows = country_rows(path)
    owners: dict[str, set[str]] = {}
    for row in rows:
        for demonym in row[5:7]:
            owners.setdefault(fold(demonym), set()).add(row[0])
    groups = []
    for row in rows:
        demonyms = [d for d in dict.fromkeys(fold(x) for x in row[5:7]) if d and len(owners[d]) == 1]
        plurals = [d if d.endswith(_NO_PLURAL) else d + "s" for d in demonyms]
        forms = [w for w in dict.fromkeys([fold(row[0]), *demonyms, *plurals]) if re.fullmatch(r"[a-z]+", w)]
        if forms:
            groups.append(" ".join(forms))
    return groups


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    """Word -> alias group key, built on first use (not at import: it reads the country table)."""
    index: dict[str, str] = {}
    for group in _ALIAS_GROUPS:
        names = group.split()
        for n in names:
            index.setdefault(n, "@" + names[0])  # "united_states": a joined multi-word name
    for group in _table_groups():  # after the groups above: a country they name keeps its key
        names = group.split()
        key = next((index[n] for n in names if n in index), "@" + names[0])
        for n in names:
            index.setdefault(n, key)
    return index


def expand_alias(word: str) -> str:
    """Map a country/demonym token to its group key (``americans`` -> ``@us``)."""
    return _alias_index().get(word, word)


def is_alias(word: str) -> bool:
    return word in _alias_index()


# Verbs of saying: they mark who said what (quote attribution, "what did X say?").
SPEECH_VERBS = frozenset(
    """said says say announced announces added adds stated states explained explains told
    tells asked asks declared declares insisted insists noted notes warned warns stressed
    stresses recalled recalls replied replies confirmed confirms assured assures affirmed
    affirms claimed claims argued argues wrote writes concluded concludes continued
    continues clarified clarifies admitted admits acknowledged emphasized emphasised
    underlined pointed according""".split()
)


NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
}
SCALE_WORDS = {
    "thousand": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "trillion": 1e12,
    "bn": 1e9,
    "m": 1e6,
}
