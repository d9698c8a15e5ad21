"""CI floors: minimum (and maximum, for error rates) scores the answerer must keep.

Floors live in ``eval/floors.json`` so raising them is a data change reviewed like code.
They are only ever raised as the answerer improves, never lowered quietly to make CI pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.scoring import HIGHER_IS_BETTER, Scores

FLOORS_PATH = Path(__file__).resolve().parent / "floors.json"


@dataclass(frozen=True)
class Floors:
    """Bounds per group ("overall" or a category): ``min`` for gains, ``max`` for error rates."""

    k: int
    bounds: dict[str, dict[str, dict[str, float]]]


def load_floors(path: Path = FLOORS_PATH) -> Floors:
    """Read and sanity-check the floors file (unknown metrics or wrong directions are errors)."""
    raw: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    bounds: dict[str, dict[str, dict[str, float]]] = {"overall": raw.get("overall", {}),
                                                      **raw.get("categories", {})}
    for group, kinds in bounds.items():
        for kind, metrics in kinds.items():
            if kind not in ("min", "max"):
                raise ValueError(f"{path}: {group}: use 'min' or 'max', not {kind!r}")
            for metric in metrics:
                if metric not in HIGHER_IS_BETTER:
                    raise ValueError(f"{path}: {group}: unknown metric {metric!r}")
                if HIGHER_IS_BETTER[metric] != (kind == "min"):
                    raise ValueError(f"{path}: {group}: {metric} belongs under "
                                     f"{'min' if HIGHER_IS_BETTER[metric] else 'max'}")
    return Floors(k=int(raw.get("k", 5)), bounds=bounds)


def violations(floors: Floors, overall: Scores, categories: Mapping[str, Scores]) -> list[str]:
    """Every bound the scores break, as readable lines (empty when all floors hold)."""
    out = []
    groups = {"overall": overall, **categories}
    for group, kinds in floors.bounds.items():
        scores = groups.get(group)
        if scores is None:
            out.append(f"{group}: no items scored")
            continue
        for kind, metrics in kinds.items():
            for metric, bound in metrics.items():
                value = getattr(scores, metric)
                broken = value is None or (value < bound if kind == "min" else value > bound)
                if broken:
                    out.append(f"{group}.{metric} = {value if value is None else round(value, 3)} "
                               f"({'below floor' if kind == 'min' else 'above ceiling'} {bound})")
    return out
