"""How the question lines up with the sentence it is answered from, word by word: the signs of a
question that looks answered but is not.

Questions written to look answerable (SQuAD 2.0's unanswerable half; users' "which company
built it?" when the text names no builder) share most words with a sentence and change one:
a word swapped next to words that match ("Western" for "Northern" Chinese), a negation added or
dropped, a year or figure the sentence does not state. Coverage counts the shared words; these
features count the one that differs. Inputs: the parsed question and the sentence's text.
Output: one row of ``ALIGNMENT_FEATURES``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection

from assistant.language.lexicon import says_the_opposite
from assistant.language.patterns import NEGATION_WORDS
from assistant.language.question import Question
from assistant.language.text import QUESTION_WORDS, STOPWORDS, content_terms, stem, words

ALIGNMENT_FEATURES: tuple[str, ...] = (
    "swapped",  # question words missing from the sentence where a neighbouring word matches next to another
    "negation_differs",  # one of the question and the sentence is negated, the other not
    "antonym",  # the sentence says the opposite of a question word (WordNet: "excluded" for "included")
    "number_missing",  # the question states a number (a year, a figure) the sentence does not
    "sentence_missing",  # question content terms not in the sentence itself, nor a synonym of them
    "missing_known",  # ... of which the documents use elsewhere (a swapped name, date or place)
    "focus_missing",  # the noun naming what is asked for ("what *profession* ...") is not in it
    "bigrams",  # share of the question's consecutive content terms found consecutive in the sentence
)

_NEGATIONS = frozenset(NEGATION_WORDS)
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_SKIP = STOPWORDS | QUESTION_WORDS


def _negated(toks: list[str]) -> bool:
    return any(t in _NEGATIONS or t.endswith("n't") or t.endswith("n’t") for t in toks)


def swapped_words(q_toks: list[str], s_toks: list[str], paraphrased: frozenset[str] = frozenset()) -> int:
    """Question words absent from the sentence whose neighbour in the question is in the
    sentence, beside a content word the question does not use: "Why were *Western* Chinese
    ranked higher?" against "The *Northern* Chinese were ranked higher". Words in
    ``paraphrased`` (stems the sentence says with a synonym) are not absent."""
    s_stems = [stem(w) for w in s_toks]
    in_sentence = set(s_stems) | paraphrased
    q_stems = {stem(w) for w in q_toks}
    where: dict[str, list[int]] = {}
    for j, w in enumerate(s_stems):
        where.setdefault(w, []).append(j)
    n = 0
    for i, w in enumerate(q_toks):
        if w in _SKIP or stem(w) in in_sentence:
            continue
        for d in (-1, 1):
            k = i + d
            if not 0 <= k < len(q_toks) or q_toks[k] in _SKIP:
                continue
            beside = [j - d for j in where.get(stem(q_toks[k]), []) if 0 <= j - d < len(s_toks)]
            if any(s_toks[j] not in _SKIP and s_stems[j] not in q_stems for j in beside):
                n += 1
                break
    return n


def alignment_features(
    info: Question, sentence: str, vocabulary: Collection[str] = frozenset()
) -> list[float]:
    """The row of ``ALIGNMENT_FEATURES`` for answering ``info`` from ``sentence``;
    ``vocabulary``: the content terms the documents use."""
    q_toks, s_toks = words(info.text), words(sentence)
    s_terms = content_terms(sentence)
    said = set(s_terms)
    # a question word the sentence says with a synonym ("petroleum": "oil") is not missing
    paraphrased = frozenset(t for t, alts in info.synonyms.items() if t not in said and alts & said)
    in_sentence = said | paraphrased
    q_terms = content_terms(info.text)
    pairs = set(itertools.pairwise(q_terms))
    s_pairs = set(itertools.pairwise(s_terms))
    s_numbers = {n.replace(",", "") for n in _DIGITS.findall(sentence)}
    missing = [t for t in q_terms if t not in in_sentence]
    focus = content_terms(info.focus) if info.focus else []
    return [
        float(swapped_words(q_toks, s_toks, paraphrased)),
        float(_negated(q_toks) != _negated(s_toks)),
        float(says_the_opposite(info.text, sentence)),
        float(any(n.replace(",", "") not in s_numbers for n in _DIGITS.findall(info.text))),
        float(len(missing)),
        float(sum(t in vocabulary for t in missing)),
        float(bool(focus) and any(t not in in_sentence for t in focus)),
        len(pairs & s_pairs) / len(pairs) if pairs else 0.0,
    ]
