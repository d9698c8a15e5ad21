"""Rebuild the external question sets' documents from their public sources (run by hand).

    python -m eval.build_sets squad /path/to/dev-v2.0.json     # SQuAD 2.0 dev (CC BY-SA 4.0)
    python -m eval.build_sets news /path/to/gum/dep            # Wikinews texts from GUM (CC BY 2.5)

Why a script: the shipped files must be reproducible from the public copies named in
``eval/data/news/SOURCES.md`` and ``eval/data/squad/SOURCES.md``, byte for byte. The news
questions are written by hand (``eval/data/news/questions.jsonl``); SQuAD's come with the data.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
# SQuAD 2.0 dev articles: the four test ones are kept out of all training and tuning (issue 9);
# Harvard_University and Force are the dev part; neither may be used to train a reader.
SQUAD_TEST = ("1973_oil_crisis", "Normans", "Steam_engine", "Scottish_Parliament")
SQUAD_DEV = ("Harvard_University", "Force")
NEWS_DOCS = ("GUM_news_afghan", "GUM_news_nasa", "GUM_news_iodine", "GUM_news_sensitive")
NO_ANSWER = "The article does not say."


def squad_doc_id(title: str) -> str:
    return f"squad_{title}.txt"


def _squad_items(article: dict[str, Any], doc_text: str, split: str) -> list[dict[str, Any]]:
    """One gold item per SQuAD question, the answer spans moved to whole-document offsets."""
    doc_id, items, cursor = squad_doc_id(article["title"]), [], 0
    for para in article["paragraphs"]:
        base = doc_text.index(para["context"].strip(), cursor)
        cursor = base + len(para["context"].strip())
        lead = len(para["context"]) - len(para["context"].lstrip())
        for qa in para["qas"]:
            answers = [a for a in qa["answers"] if a["text"].strip()]
            texts = list(dict.fromkeys(a["text"].strip() for a in answers))
            item: dict[str, Any] = {
                "id": f"squad-{qa['id']}", "category": "factoid" if texts else "not_in_article",
                "question": qa["question"].strip(), "answerable": bool(texts),
                "reference": texts[0] if texts else NO_ANSWER, "must": [texts] if texts else [],
                "evidence": [], "split": split, "doc_id": doc_id, "benchmark": "squad2"}
            if texts:
                a = answers[0]
                start = base + a["answer_start"] - lead + (len(a["text"]) - len(a["text"].lstrip()))
                end = start + len(a["text"].strip())
                item["evidence"] = [{"doc_id": doc_id, "start": start, "end": end,
                                     "text": doc_text[start:end]}]
                if doc_text[start:end] != a["text"].strip():
                    raise ValueError(f"{qa['id']}: answer span {doc_text[start:end]!r} != {a['text']!r}")
            items.append(item)
    return items


def build_squad(source: Path, out: Path = DATA / "squad") -> int:
    """Write each selected article as one .txt (paragraphs joined by blank lines) + questions."""
    from ingest.loaders import load_file

    data = {a["title"]: a for a in json.loads(source.read_text(encoding="utf-8"))["data"]}
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for titles, split in ((SQUAD_DEV, "dev"), (SQUAD_TEST, "test")):
        for title in titles:
            article = data[title]
            path = out / squad_doc_id(title)
            text = "\n\n".join(p["context"].strip() for p in article["paragraphs"]) + "\n"
            path.write_text(text, encoding="utf-8")
            rows += _squad_items(article, load_file(path).text, split)
    (out / "questions.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                         encoding="utf-8")
    return len(rows)


def gum_text(conllu: str) -> str:
    """A GUM document's running text: its ``# text =`` sentences, paragraphs at ``# newpar``.

    The trailing "Sources"/"Categories" block of a Wikinews page is dropped (not article text).
    """
    paras: list[list[str]] = []
    for line in conllu.splitlines():
        if line.startswith("# newpar") and not line.startswith("# newpar_block"):
            paras.append([])
        elif line.startswith("# text = "):
            if not paras:
                paras.append([])
            paras[-1].append(line[len("# text = "):].strip())
    texts = [" ".join(p) for p in paras if p]
    if "Sources" in texts:
        texts = texts[:texts.index("Sources")]
    return "\n\n".join(texts) + "\n"


def build_news(gum_dep: Path, out: Path = DATA / "news") -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name in NEWS_DOCS:
        text = gum_text((gum_dep / f"{name}.conllu").read_text(encoding="utf-8"))
        (out / f"news_{name.removeprefix('GUM_news_')}.txt").write_text(text, encoding="utf-8")
    return len(NEWS_DOCS)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("squad", "news"):
        print(__doc__, file=sys.stderr)
        return 2
    n = build_squad(Path(args[1])) if args[0] == "squad" else build_news(Path(args[1]))
    print(f"{args[0]}: wrote {n} {'questions' if args[0] == 'squad' else 'documents'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
