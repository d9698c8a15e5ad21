"""The report's PNG: per-category quality bars for each backend, and latency per category.

Matplotlib with the Agg backend, so it renders on CI machines with no display.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use("Agg"): the backend must be chosen first

from eval.dataset import CATEGORIES
from eval.report import BackendScores

PLOTTED = ("strict_accuracy", "accuracy", "citation_recall", "citation_precision", "recall_at_k",
           "refusal_accuracy")


def plot_scores(scores: Mapping[str, BackendScores], path: Path) -> Path | None:
    """Draw the figure to ``path``; ``None`` when no backend produced scores."""
    ok = {n: b for n, b in scores.items() if b.overall is not None}
    if not ok:
        return None
    present = {c for b in ok.values() for c in b.categories}
    cats = [c for c in CATEGORIES if c in present] + ["overall"]
    fig, axes = plt.subplots(len(ok) + 1, 1, figsize=(max(10, len(cats) * 1.1), 3.6 * (len(ok) + 1)),
                             squeeze=False)
    width = 0.8 / len(PLOTTED)
    for row, (name, b) in enumerate(ok.items()):
        ax = axes[row][0]
        groups = {**b.categories, "overall": b.overall}
        for j, metric in enumerate(PLOTTED):
            vals = [getattr(groups[c], metric) if c in groups else None for c in cats]
            xs = [i + (j - (len(PLOTTED) - 1) / 2) * width for i in range(len(cats))]
            ax.bar(xs, [v if v is not None else 0 for v in vals], width, label=metric)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"backend: {name}")
        ax.legend(fontsize=7, ncol=len(PLOTTED), loc="upper center", bbox_to_anchor=(0.5, 1.0))
        ax.grid(axis="y", alpha=0.3)
    ax = axes[-1][0]
    width = 0.8 / len(ok)
    for j, (name, b) in enumerate(ok.items()):
        groups = {**b.categories, "overall": b.overall}
        xs = [i + (j - (len(ok) - 1) / 2) * width for i in range(len(cats))]
        p50 = [(groups[c].latency_p50_ms or 0) if c in groups else 0 for c in cats]
        p95 = [(groups[c].latency_p95_ms or 0) if c in groups else 0 for c in cats]
        ax.bar(xs, p95, width, alpha=0.35, label=f"{name} p95")
        ax.bar(xs, p50, width * 0.6, label=f"{name} p50")
    ax.set_ylabel("latency (ms)")
    ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right", fontsize=8)
    ax.set_title("latency per question")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
