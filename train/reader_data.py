"""Build (question, sentence) training pairs for the reader from SQuAD 2.0.

Why pairs of sentences and not paragraphs: the product cites sentences, so the reader
learns exactly the decision the answerer makes — "does this sentence (read after its
neighbour) answer the question?" — plus where in the sentence the answer sits (a span
head, used to pick the short answer among candidates).

Labels: a sentence is positive when a gold answer starts inside it; every sentence of an
unanswerable (SQuAD 2.0 ``is_impossible``) question is negative. Besides the sentences of
its own paragraph, each question gets ``extra_negatives`` sentences from other paragraphs
of the same article that share the most words with it — the near misses that retrieval
puts in front of the reader in the product.

Held out, never used here: the evaluation articles (see ``HELD_OUT``).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.sentences import split_sentences

# Kept out of training and tuning: the four independent-check articles of the eval issue
# and the two SQuAD dev-split articles the eval suite tunes on.
HELD_OUT = frozenset(
    {"1973_oil_crisis", "Normans", "Steam_engine", "Scottish_Parliament", "Harvard_University", "Force"}
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "the a an of in on at to for by with from and or is was were are be been what which who whom whose "
    "when where why how did do does that this these those it its as".split()
)


@dataclass(frozen=True)
class Pair:
    """One training example: the question, the candidate with its previous sentence, labels."""

    question: str
    sentence: str
    previous: str
    label: int
    answer_start: int = -1  # character offsets of the gold answer inside ``sentence``; -1: none
    answer_end: int = -1
    article: str = ""


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _article_sentences(article: dict) -> list[tuple[int, str, list]]:
    """(paragraph index, paragraph text, its sentences) for every paragraph."""
    out = []
    for p_i, para in enumerate(article["paragraphs"]):
        out.append((p_i, para["context"], split_sentences(para["context"], doc_id=article["title"])))
    return out


def _pairs_for_question(
    qa: dict, p_i: int, paras: list[tuple[int, str, list]], extra_negatives: int, title: str
) -> list[Pair]:
    _, _context, sents = paras[p_i]
    answers = [] if qa.get("is_impossible") else qa["answers"]
    pairs = []
    for k, s in enumerate(sents):
        prev = sents[k - 1].text if k > 0 else ""
        hit = next((a for a in answers if s.start <= a["answer_start"] < s.end), None)
        if hit is None:
            pairs.append(Pair(qa["question"], s.text, prev, 0, article=title))
            continue
        a0 = hit["answer_start"] - s.start
        a1 = min(a0 + len(hit["text"]), len(s.text))
        pairs.append(Pair(qa["question"], s.text, prev, 1, a0, a1, title))
    qw = _words(qa["question"])
    others = [
        (len(qw & _words(s.text)), s.text, sents2[k - 1].text if k else "")
        for j, _c, sents2 in paras
        if j != p_i
        for k, s in enumerate(sents2)
    ]
    others.sort(key=lambda t: -t[0])
    for _overlap, text, prev in others[:extra_negatives]:
        pairs.append(Pair(qa["question"], text, prev, 0, article=title))
    return pairs


def build_pairs(squad_path: Path, extra_negatives: int = 2, exclude: frozenset[str] = HELD_OUT) -> list[Pair]:
    """All pairs from the SQuAD 2.0 file at ``squad_path``, minus the ``exclude`` articles."""
    data = json.loads(Path(squad_path).read_text(encoding="utf-8"))["data"]
    pairs: list[Pair] = []
    for article in data:
        if article["title"] in exclude:
            continue
        paras = _article_sentences(article)
        for p_i, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                pairs += _pairs_for_question(qa, p_i, paras, extra_negatives, article["title"])
    return pairs


def split_by_article(pairs: list[Pair], valid_articles: int, seed: int = 13) -> tuple[list[Pair], list[Pair]]:
    """Train/validation split by whole articles (no question leaks across the split).

    Keep ``seed`` fixed across runs that continue one another (``--init``): the default picks
    the article every run so far validated on except one (see the model card)."""
    titles = sorted({p.article for p in pairs})
    rng = random.Random(seed)
    rng.shuffle(titles)
    valid = set(titles[:valid_articles])
    return [p for p in pairs if p.article not in valid], [p for p in pairs if p.article in valid]


def write_jsonl(pairs: list[Pair], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Pair]:
    with Path(path).open(encoding="utf-8") as fh:
        return [Pair(**json.loads(line)) for line in fh if line.strip()]
