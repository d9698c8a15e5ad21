"""The training questions: SQuAD 2.0 dev articles the eval never uses, plus the eval's dev splits.

Why these: SQuAD 2.0 has answerable and unanswerable questions written by other people over
Wikipedia text; the ten articles of ``train/data/squad-dev-v2.0.json`` that are not in the eval
(``eval.build_sets.SQUAD_TEST``/``SQUAD_DEV``) are free to fit on. The eval's *dev* splits
(news, the article sets, SQuAD's two dev articles) add the kind of text the product is for; their
*test* splits are never read here (``select(..., split="dev")``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from eval.build_sets import NO_ANSWER, SQUAD_DEV, SQUAD_TEST, _squad_items, squad_doc_id
from eval.dataset import GoldItem, select
from eval.suites import SETS, QuestionSet

ROOT = Path(__file__).resolve().parents[2]
SQUAD_JSON = ROOT / "train" / "data" / "squad-dev-v2.0.json"
WORK = ROOT / ".decision-data"
FOREIGN_PER_ARTICLE = 20  # off-topic questions asked of each SQuAD article (``foreign_question_sets``)
FOREIGN_ID = "foreign-"  # what the ids of those questions start with


@dataclass(frozen=True)
class TrainingSet:
    """A question set to collect from, its dev-only items, and the group its items belong to
    (one SQuAD article or one eval set: held out together when validating)."""

    qs: QuestionSet
    items: tuple[GoldItem, ...]
    group: str


def squad_training_sets(source: Path = SQUAD_JSON, work: Path = WORK) -> list[TrainingSet]:
    """One set per unused SQuAD article: the article as a document, its questions as items."""
    from ingest.loaders import load_file

    used = set(SQUAD_TEST) | set(SQUAD_DEV)
    folder = work / "squad"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for article in json.loads(source.read_text(encoding="utf-8"))["data"]:
        title = article["title"]
        if title in used:
            continue
        doc = folder / squad_doc_id(title)
        doc.write_text(
            "\n\n".join(p["context"].strip() for p in article["paragraphs"]) + "\n", encoding="utf-8"
        )
        rows = _squad_items(article, load_file(doc).text, "dev")
        gold = folder / f"{title}.jsonl"
        gold.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        qs = QuestionSet(f"train_{title}", gold, (doc,))
        out.append(TrainingSet(qs, tuple(qs.load()), f"squad:{title}"))
    return out


def eval_dev_sets() -> list[TrainingSet]:
    """The dev items of every eval set (never a test item)."""
    out = []
    for qs in SETS.values():
        items = select(replace(qs, every=1).load(), split="dev")
        if items:
            out.append(TrainingSet(qs, tuple(items), f"eval:{qs.name}"))
    return out


def foreign_question_sets(
    sets: Sequence[TrainingSet], per_article: int = FOREIGN_PER_ARTICLE
) -> list[TrainingSet]:
    """Off-topic questions: each SQuAD article is asked the first ``per_article`` answerable
    questions of the next one (in the source's order), labelled unanswerable.

    Why: SQuAD's unanswerable questions are all about their own article, written to look
    answerable; users also ask about what the documents never cover ("What will the weather be
    tomorrow?"). Without such questions P(right) never sees one that passes the rules (a name
    the documents do use) and then matches nothing. Each set keeps the article's group, so it
    is held out with the article it is asked of."""
    out = []
    for ts, other in zip(sets, [*sets[1:], *sets[:1]], strict=True):
        if ts is other or not ts.items:
            continue
        doc_id = ts.items[0].doc_id
        asked = [it for it in other.items if it.answerable][:per_article]
        items = tuple(
            replace(it, id=f"{FOREIGN_ID}{it.id}", category="off_topic", answerable=False,
                    reference=NO_ANSWER, must=(), evidence=(), doc_id=doc_id)
            for it in asked
        )
        out.append(TrainingSet(ts.qs, items, ts.group))
    return out
