"""What a question asks for: its kind, the kind of fact that answers it, and its key terms.

Rules are about English question forms (who / how many / why ...), never about one
document's content, so they carry over to any text a user adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.core.types import QuestionKind
from assistant.language.figures import MEASURES, find_figures
from assistant.language.lexicon import noun_class, noun_kind
from assistant.language.patterns import (
    COUNTRY_NOUNS,
    LIST_HEAD,
    LIST_QUESTION_NOUNS,
    NAME_LIST_NOUNS,
    PEOPLE_NOUNS,
    ROLE_PATTERN,
)
from assistant.language.text import (
    NUMBER_WORDS,
    QUESTION_WORDS,
    SPEECH_VERBS,
    STOPWORDS,
    content_terms,
    expand_alias,
    fold,
    is_alias,
    same_durations,
    stem,
    words,
)

# Entity labels (spaCy/OntoNotes) that can answer each kind of question.
EXPECTED: dict[str, frozenset[str]] = {
    "who": frozenset({"PERSON", "ORG"}),
    "name": frozenset({"ORG", "PRODUCT", "FAC", "EVENT", "WORK_OF_ART", "LAW", "PERSON", "GPE", "LOC"}),
    "where": frozenset({"GPE", "LOC", "FAC"}),
    "when": frozenset({"DATE", "TIME"}),
    "how_long": frozenset({"DATE", "TIME"}),
    "how_many": frozenset({"CARDINAL", "QUANTITY", "PERCENT", "MONEY"}),
    "how_much": frozenset({"MONEY", "CARDINAL", "QUANTITY", "PERCENT"}),
    "list": frozenset({"GPE", "NORP", "ORG", "LOC"}),
}

_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|prompts?|rules|guidelines|"
    r"above|previous|context|documents?)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bpretend (to be|you)\b|\bact as\b|\bjailbreak|\bdeveloper mode\b"
    r"|\breveal (your|the) (prompt|instructions|system)\b"
    r"|\b(write|compose|generate|give me|tell me) (me )?(a|an|some) (poem|story|essay|song|joke|limerick|"
    r"haiku|recipe|code|script|program)\b"
    r"|\bno matter what the (document|article|text)s? says?\b|\binstead of answering\b"
    r"|\b(say|print|output|repeat) (only )?[\"'“].{0,60}[\"'”]",
)
_ARITH_DIFF = re.compile(
    r"\b(how (much|many) (more|less|fewer|higher|lower|bigger|larger|smaller)|"
    r"difference|gap between|more than|less than|fewer than|exceed|outweigh|"
    r"minus|subtract)\b"
)
_REMAINDER = re.compile(
    r"\b(not|never|remaining|remainder|rest|left over|other|others|except|excluding|apart from|"
    r"besides|uncovered|outstanding)\b|n't\b"  # "n't" ends its word: no boundary before it
)
_ARITH_SUM = re.compile(
    r"\b(combined|in total|total|sum|together|altogether|in all|add up|added|plus|"
    r"both)\b"
)
_ARITH_SHARE = re.compile(
    r"\b(share|percentage|percent|proportion|fraction|ratio|what part|how many times|"
    r"times (as|more))\b"
)
# Verbs of refusing: a question that presupposes one ("why did X refuse ...?") is checked
# against the text. (Not "stop"/"end"/"leave": "once fighting stops" presupposes no refusal.)
_NEGATIVE_VERBS = frozenset(
    stem(w)
    for w in (
        "refuse refused refusing reject rejected decline declined oppose opposed withdraw withdrew "
        "withdrawn quit boycott boycotted veto vetoed deny denied abandon abandoned block blocked "
        "ban banned exclude excluded condemn condemned"
    ).split()
)
_VERBS_S = frozenset(
    "happens means remains says does goes makes takes seems costs causes shows is was has gives comes "
    "stands lies looks needs wants becomes leads keeps puts sets runs holds brings".split()
)
_AUX_EXTRA = frozenset("still also have had already".split())

# Words that name the kind of answer wanted ("what day", "which city"), not the topic.
_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "when": ("day", "days", "date", "week", "month", "year", "time", "moment", "period"),
    "how_long": ("long", "time", "days", "weeks", "months", "years", "hours", "minutes", "last", "lasted"),
    "where": ("place", "city", "location", "venue", "town", "site", "country"),
    "who": ("person", "people", "name", "individual", "one"),
    "how_many": ("number", "large", "big", "group", "total"),
    "how_much": ("amount", "sum", "figure", "value", "large", "big"),
    "list": ("pair", "ones", "list", "name"),
}
_AUX = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "shall",
        "must",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "don't",
        "doesn't",
        "didn't",
        "hasn't",
        "haven't",
        "won't",
    ]
)


@dataclass(frozen=True)
class Question:
    """Everything the answerer acts on, parsed from the question once by ``analyze``: the
    stages of ``assistant.answering.answer`` read these fields, never the raw text again."""

    text: str
    kind: QuestionKind
    expected: frozenset[str]
    terms: tuple[str, ...]  # stemmed, alias-expanded content terms
    entities: tuple[str, ...]  # names in the question (surface form)
    entity_keys: tuple[tuple[str, ...], ...]  # per entity: its matchable keys
    numbers: tuple[float, ...]
    operation: str = ""  # difference | sum | ratio | share | remainder (arithmetic only)
    negative_premise: tuple[str, ...] = ()  # stems of contrary verbs the question presupposes
    injection: bool = False
    head_noun: str = ""  # "countries" in "how many countries ..."
    focus: str = ""  # the noun naming what is asked for: "budget" in "What is the budget of ...?"
    dimension: str = ""  # "deep" in "how deep ...?" (numbers.MEASURES)
    quoted: tuple[str, ...] = ()  # phrases the question quotes ('each in their own way'), folded
    folded: str = ""  # fold(text): lower case, plain quotes and dashes
    list_noun: str = ""  # the plural after which/what ("countries" in "which two countries ...")
    list_labels: frozenset[str] = frozenset()  # entity labels that can be items of the list asked for
    pronoun: bool = False  # it says it/this/them ...: a follow-up's earlier topic fills it in
    speech: bool = False  # it uses a verb of saying ("who said ...")
    about_documents: str = ""  # "headings" | "people": a question about the documents themselves
    about_terms: tuple[str, ...] = ()  # content terms after "about" ("what did X say about T?")
    the_phrases: tuple[str, ...] = ()  # "the <1-3 words>" phrases, longest first (comparison operands)
    number_surfaces: tuple[tuple[float, str], ...] = ()  # (value, words as written) of stated numbers
    # question terms the documents never use -> document terms that are their synonyms
    synonyms: dict[str, frozenset[str]] = field(default_factory=dict)


def entity_keys(name: str) -> tuple[str, ...]:
    """Keys under which a name matches text: alias group keys and folded name tokens."""
    joined = "_".join(words(name))
    if is_alias(joined) and "_" in joined:
        return (expand_alias(joined),)
    keys = []
    for w in words(name):
        if w in STOPWORDS:
            continue
        keys.append(expand_alias(w) if is_alias(w) else w)
    return tuple(dict.fromkeys(keys))


def question_entities(question: str) -> list[str]:
    """Names in a question: runs of capitalised words (not the opening question word) and
    country/demonym aliases in any case."""
    tokens = re.findall(r"[A-Za-z\u00C0-\u024F][\w\u00C0-\u024F.'’-]*|\d[\d,.]*", question)
    names: list[str] = []
    run: list[str] = []
    for idx, tok in enumerate(tokens):
        low = fold(tok).strip(".'’")
        capital = tok[0].isupper()
        first = idx == 0 or low in _AUX or low in QUESTION_WORDS
        lone_first = idx == 0 and not (len(tokens) > 1 and tokens[1][:1].isupper())
        is_name = (
            capital
            and not (idx == 0 and (low in STOPWORDS or low in QUESTION_WORDS or low in _AUX or lone_first))
            and low not in QUESTION_WORDS
            and low not in {"i"}
        ) or (is_alias(low) and not first)
        if is_name and (tok.isupper() or capital or is_alias(low)):
            tok = re.sub(r"['’]s$", "", tok).strip(".'’")
            run.append(tok)
        else:
            if run:
                names.append(" ".join(run))
            run = []
    if run:
        names.append(" ".join(run))
    cleaned = []
    for n in names:
        parts = [p for p in n.split() if fold(p) not in STOPWORDS or is_alias(fold(p))]
        if parts:
            cleaned.append(" ".join(parts))
    return cleaned


# "the French president": a demonym before a role names a person by role, not only a country.
_ROLE_AFTER = re.compile(rf"^(?:['’]s)?\s+({ROLE_PATTERN}|head|government)\b", re.IGNORECASE)
SALIENT_KEY = "@@salient"  # matches a sentence about the document's main actor


def _role_qualified(name: str, question: str) -> bool:
    m = re.search(rf"\b{re.escape(name)}\b", question)
    return m is not None and is_alias(fold(name)) and bool(_ROLE_AFTER.match(question[m.end() :]))


# Ordinals that only count ("second" is also a unit of time, "first" is used loosely).
ORDINALS = {
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}


def parse_number_word(w: str) -> float | None:
    w = fold(w)
    if w in NUMBER_WORDS:
        return float(NUMBER_WORDS[w])
    if w in ORDINALS:
        return float(ORDINALS[w])
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", w):
        return float(w.replace(",", ""))
    return None


_NAME_ASKED = re.compile(r"^what (is|was|are|were|will) .{1,60}\b(called|named|known as)\W*$")


def _kind_from_noun(q: str) -> str:
    """ "Which company / firm / union ...?" asks for an organisation or a person, "which
    province ...?" for a place: WordNet's class of the noun after which/what decides, so no
    list of nouns is needed. "What is X called?" asks for a name."""
    if _NAME_ASKED.search(q):
        return "name"
    word = _typing_noun(q)
    return _NOUN_KINDS[noun_class(word)] if word else ""


_NOUN_KINDS = {"person": "who", "group": "who", "location": "where"}


def _typing_noun(q: str) -> str:
    """The noun after which/what that names a kind of answer ("which *company*", "which local
    *firm*", "what *official*"); '' when there is none."""
    m = re.match(r"^(?:(?:in|on|at|for|from|with|by|to)\s+)?(which|what)\s+([a-z]+)(?:\s+([a-z]+))?", q)
    if not m or re.match(r"^(?:\w+\s+)?(?:which|what)\s+[a-z]+\s+of\b", q):
        return ""  # "which pair of members", "what kind of work": the noun after "of" decides
    for word in m.group(2, 3):
        if not word or word in _AUX or word in STOPWORDS:
            return ""
        if is_alias(word):
            continue  # "which US envoy": the country qualifies the noun after it
        cls = noun_class(word)
        if cls in _NOUN_KINDS and (m.group(1) == "which" or cls == "person"):  # not "what traffic"
            return word
    return ""


_MEASURED = "(" + "|".join(MEASURES) + ")"


def _asks_when(q: str) -> bool:
    """ "When ...?", "Since when ...?", "Tell me when ...": "when" is the question word. Not in
    "What happens when ...?" or "Who was mayor when ...?": there it only sets a condition."""
    m = re.search(r"\bwhen\b", q)
    return m is not None and not re.search(r"\b(what|which|who|whom|whose|where|how|why)\b", q[: m.start()])


def _kind(q: str) -> str:
    if re.search(
        r"\bwhy\b|\bfor what (reason|purpose)\b|\bwhat (is|was) the (reason|purpose|goal|aim)\b|"
        r"\bhow come\b|\bwhat for\b|\bfor what\b|\bwhat (drove|motivated|caused)\b",
        q,
    ):
        return "why"
    if re.search(
        r"\bhow many\b|\bnumber of\b|\bwhat number\b|\bhow (large|big) an? (number|group|"
        r"share|part|coalition|contingent)\b",
        q,
    ):
        return "how_many"
    if re.search(
        r"\bhow long\b|\bfor how (long|many (days|weeks|months|years|hours))\b"
        r"|\b(over|for|during|within|in) what (period|length of time|time span|timeframe|term)\b",
        q,
    ):
        return "how_long"
    if re.search(
        r"\bhow much\b|\bwhat (amount|sum|figure|value)\b|\bhow (large|big)\b|\bhow " + _MEASURED + r"\b", q
    ):
        return "how_much"
    if _asks_when(q) or re.search(
        r"\bwhat (date|day|year|month|time)\b|\bwhich (date|day|year|month)\b|"
        r"\bby what date\b|\bup to what date\b",
        q,
    ):
        return "when"
    if re.search(
        r"\b(which|what) (?:(?:pair of|two|three|four|five|other|[a-z]+|\d+) )?"
        rf"({LIST_QUESTION_NOUNS})\b|\bname (the|all|some)\b|\blist\b",
        q,
    ):
        return "list"
    m = re.search(r"\b(which|what) (?:[a-z]+ )?([a-z]{3,}s) ([a-z']+)", q)
    if (
        m
        and m.group(2) not in _VERBS_S
        and not m.group(2).endswith("ss")
        and (m.group(3) in _AUX or m.group(3).endswith("ed") or m.group(3) in _AUX_EXTRA)
    ):
        return "list"  # "which parties voted ...", "what companies are ..."
    if re.search(
        r"\bwhere\b|\b(which|what) (city|place|capital|location|venue|town|building|hotel|"
        r"palace|room|site|headquarters)\b|"
        r"\bin which country\b|\bin what country\b",
        q,
    ):
        return "where"
    if re.search(
        rf"\bwho\b|\bwhom\b|\bwhose\b|\b(which|what) (?:[a-z]+ )?({ROLE_PATTERN}|person|politician|"
        r"official|head)\b|\bwhat is the name of\b|\bname of the\b",
        q,
    ):
        return "who"
    typed = _kind_from_noun(q)
    if typed:
        return typed
    if re.search(
        r"\bwhat (did|does|has|had|do|will) .{1,60}\b(say|said|announce|declare|warn|clarify|"
        r"claim|recall|assure|state|confirm|add|stress|express|specify|insist|ironi[sz]e|"
        r"think|believe|promise|mean)\b|\baccording to\b|\bhow did .{1,40} (describe|"
        r"characteri[sz]e|react|respond)\b",
        q,
    ):
        return "quote"
    first = q.split()[0] if q.split() else ""
    if first in _AUX:
        return "yesno"
    return "what"


_FOCUS = re.compile(
    r"^(?:(?:in|on|at|for|from|with|by|of|to|and|so|then|but)\s+)*(?:"
    r"what\s+(?:is|was|are|were)\s+(?:the|its|their|his|her)\s+([a-z]+)\s+(?:of|for|on|in|to)\b"
    r"|which\s+((?:[a-z]+\s+){0,2}[a-z]+))"
)


def _focus(q: str) -> str:
    """The topic noun a question asks about: "What is the *budget* of ...?", "Which
    *treaty* ...?", "Which previously signed *treaty* ...?". '' when there is none,
    or when the noun only names the kind of answer ("which city", "which leader": typed
    answers check those). "What X ...?" is left out: there X is often a paraphrase of the
    answer itself ("What penalty awaits ...?" -> sanctions)."""
    m = _FOCUS.search(q)
    if not m:
        return ""
    for word in (m.group(1) or m.group(2)).split():
        if word in STOPWORDS or word in _AUX or word in QUESTION_WORDS:
            return ""
        kind = noun_kind(word)
        if kind is not None:
            return word if kind == "topic" else ""
    return ""


# A question word in capitals after the first word of a question not itself in capitals is an
# acronym ("How did the WHO describe ...?": the World Health Organization), not the question word.
_CAPITAL_QUESTION_WORD = re.compile(r"(?<=\S )(?:WHO|WHOM|WHOSE|WHAT|WHICH|WHERE|WHEN|WHY|HOW)\b")


def _asked(question: str) -> str:
    """``question`` folded for classifying, its acronyms that spell a question word masked."""
    if question.isupper():
        return fold(question)
    return fold(_CAPITAL_QUESTION_WORD.sub("acronym", question))


def analyze(question: str) -> Question:
    """Classify ``question`` and pull out what the answer must contain. A typographic
    apostrophe (phones and word processors type "didn’t", "Macron’s") is read as a plain one."""
    question = question.replace("’", "'")
    q = fold(question)
    injection = bool(_INJECTION.search(q))
    kind = _kind(_asked(question))
    ents = question_entities(question)
    plain = same_durations(question)  # "twelve months" is "a year", not the number 12
    stated = [f for f in find_figures(plain) if not f.is_year]
    numbers = tuple(
        dict.fromkeys(
            [v for w in words(plain) if (v := parse_number_word(w)) is not None and fold(w) not in {"one"}]
            + [f.value for f in stated]
        )
    )
    operation = _operation(q, kind, len(ents), bool(stated))
    if operation:
        kind = "arithmetic"
    head = _head_noun(q)
    stems = [stem(w) for w in words(question)]
    negative = tuple(s for s in stems if s in _NEGATIVE_VERBS)
    head_m = LIST_HEAD.search(q)
    expected = _expected(q, kind, head_m.group(1) if head_m else "")
    type_words = {stem(w) for w in _TYPE_WORDS.get(kind, ())}
    if kind in ("who", "where") and (typed := _typing_noun(q)):
        type_words.add(stem(typed))  # "which academic": the kind of answer, not a word to find
    terms = tuple(t for t in dict.fromkeys(content_terms(question)) if t not in type_words)
    return Question(
        text=question,
        kind=QuestionKind(kind),
        expected=expected,
        terms=terms,
        entities=tuple(ents),
        entity_keys=tuple(
            entity_keys(e) + ((SALIENT_KEY,) if _role_qualified(e, question) else ()) for e in ents
        ),
        numbers=numbers,
        operation=operation,
        negative_premise=negative,
        injection=injection,
        head_noun=head,
        focus=_focus(q),
        dimension=m.group(1) if (m := re.search(r"\bhow " + _MEASURED + r"\b", q)) else "",
        quoted=tuple(
            " ".join(m.split())
            for m in re.findall(r"[\"“‘']([^\"”’']{6,200})[\"”’']", fold(question))
            if len(m.split()) >= 2
        ),
        folded=q,
        list_noun=head_m.group(1) if head_m else "",
        list_labels=_list_labels(q),
        pronoun=bool(re.search(r"\b(it|its|this|that|them|these|those)\b", q)),
        speech=bool(set(words(question)) & SPEECH_VERBS),
        about_documents=_about_documents(question, kind),
        about_terms=tuple(t for t in content_terms(a.group(1)) if not t.startswith("@"))
        if (a := re.search(r"\babout (.+)", q))
        else (),
        the_phrases=_the_phrases(q),
        number_surfaces=tuple(
            [(v, w) for w in words(question) if (v := parse_number_word(w)) is not None]
            + [(f.value, f.text) for f in find_figures(question)]
        ),
    )


def _operation(q: str, kind: str, n_ents: int, stated: bool) -> str:
    """The arithmetic a question asks for (difference | ratio | share | sum | remainder), or ''."""
    if kind in ("how_much", "how_many", "what", "yesno") or _ARITH_SHARE.search(q):
        if re.search(r"\bhow (much|many) (more|less|fewer)\b", q) or (_ARITH_DIFF.search(q) and n_ents >= 2):
            return "difference"
        if re.search(r"\b(ratio|how many times|times (as|more|larger|bigger))\b", q) and n_ents >= 2:
            return "ratio"
        if _ARITH_SHARE.search(q) and kind != "yesno":
            return "share"
        if _ARITH_SUM.search(q) and (n_ents >= 2 or (n_ents == 1 and " and " in q)):
            return "sum"
    if kind in ("how_many", "how_much") and _REMAINDER.search(q) and stated:
        return "remainder"  # "Of the 26 countries, how many would not ...?": 26 minus those that would
    return ""


def _head_noun(q: str) -> str:
    """What a how-many question counts ("how many Ukrainian soldiers" -> "soldiers"), or ''."""
    m = re.search(r"\bhow many ((?:[a-z]+ ){0,2}[a-z]+)", q)
    if not m:
        return ""
    run = m.group(1).split()
    head = run[0] if run and run[0] not in STOPWORDS and run[0] not in _AUX else ""
    if (
        head
        and (is_alias(head) or re.search(r"(an|ish|ese|ern|al)$", head))
        and len(run) > 1
        and run[1] not in STOPWORDS
        and run[1] not in _AUX
    ):
        head = run[1]  # "how many Ukrainian soldiers": skip the adjective
    return head


_NAME_LISTS = re.compile(rf"({NAME_LIST_NOUNS})$")


def _expected(q: str, kind: str, list_noun: str) -> frozenset[str]:
    """The entity labels that can answer the question (empty: the answer is not a name)."""
    if kind == "where" and re.search(r"\b(building|venue|hotel|palace|room|street|square|address|hall)\b", q):
        return frozenset({"FAC", "ORG"})  # finer than a city: a city name does not answer it
    if kind == "list" and list_noun and not _NAME_LISTS.match(list_noun):
        return frozenset()  # "which domains ...": a list, but not of names
    if kind == "who" and (noun := _typing_noun(q) or _named_noun(q)):
        return _WHO_BY_NOUN.get(noun_class(noun), EXPECTED["who"])
    return EXPECTED.get(kind, frozenset())


# "Which minister" / "the name of the driver who ..." asks for a person, "which company" / "which
# party" for an organisation (or the group it is: "Democrats"): WordNet's class of the noun.
_WHO_BY_NOUN = {"person": frozenset({"PERSON"}), "group": frozenset({"ORG", "NORP"})}


def _named_noun(q: str) -> str:
    """The noun in "the name of the <noun> [who ...]" ('' when the question has none, or when
    the noun is only a modifier: "the name of the Dutch team's boat")."""
    m = re.search(r"\bname of (?:the |a |an |this |that )?([a-z]+)(?=\s+(?:who|whom|that|which)\b|\W*$)", q)
    return m.group(1) if m else ""


def _list_labels(q: str) -> frozenset[str]:
    """Entity labels a list question's items carry: countries are GPEs, leaders are PERSONs."""
    if re.search(rf"\b({COUNTRY_NOUNS})\b", q):
        return frozenset({"GPE"})
    if re.search(rf"\b({PEOPLE_NOUNS})\b", q):
        return frozenset({"PERSON"})
    return frozenset({"GPE", "ORG", "NORP", "PERSON", "LOC"})


_META_HEADINGS = re.compile(r"\b(headings?|sub-?headings?|sections?|subtitles?|titles?)\b", re.IGNORECASE)
_META_NAMED = re.compile(r"\b(named|mentioned|appear|cited|quoted|figure)\b", re.IGNORECASE)
_META_PEOPLE = re.compile(r"\b(people|persons|leaders|politicians|individuals|figures)\b", re.IGNORECASE)


def _about_documents(question: str, kind: str) -> str:
    """ "headings" for "What are the headings?", "people" for "Which people are named?", else ''."""
    if _META_HEADINGS.search(question) and re.search(r"\b(what|which|list|name)\b", question, re.IGNORECASE):
        return "headings"
    if kind in ("list", "who") and _META_PEOPLE.search(question) and _META_NAMED.search(question):
        return "people"
    return ""


def _the_phrases(q: str) -> tuple[str, ...]:
    """ "the national government" -> "national government", "national": the noun phrases a
    comparison may name its second operand by ("... than the national government")."""
    phrases: list[str] = []
    for m in re.finditer(r"(?=\bthe ((?:[a-z]+ ){0,2}[a-z]+))", q):
        parts = m.group(1).split()
        phrases += [" ".join(parts[:k]) for k in range(len(parts), 0, -1)]
    return tuple(p for p in phrases if p not in STOPWORDS)
