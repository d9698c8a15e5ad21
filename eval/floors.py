"""CI floors: minimum (and maximum, for error rates) strict scores per question set and split.

Floors live in ``eval/floors.json`` so raising them is a data change reviewed like code. They
hold *strict* figures (the direct answer judged alone) on the sets' frozen *test* splits, plus
a guard on the tuned gold set (dev): numbers nobody can raise by tuning on the items scored.
They are only ever raised as the answerer improves, never lowered quietly to make CI pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.dataset import SPLITS
from eval.scoring import HIGHER_IS_BETTER, Scores

FLOORS_PATH = Path(__file__).resolve().parent / "floors.json"


@dataclass(frozen=True)
class SetFloor:
    """Bounds for one set's split: ``min`` for scores, ``max`` for error rates."""

    split: str
    bounds: dict[str, dict[str, float]]


@dataclass(frozen=True)
class Floors:
    k: int
    sets: dict[str, SetFloor]


def _check(path: Path, name: str, raw: dict[str, Any]) -> SetFloor:
    split = raw.get("split")
    if split not in SPLITS:
        raise ValueError(f"{path}: {name}: 'split' must be one of {list(SPLITS)}, got {split!r}")
    bounds = {kind: raw[kind] for kind in ("min", "max") if kind in raw}
    unknown = sorted(set(raw) - {"split", "min", "max", "measured", "_why"})
    if unknown:
        raise ValueError(f"{path}: {name}: unknown key(s) {unknown}")
    for kind, metrics in bounds.items():
        for metric in metrics:
            if metric not in HIGHER_IS_BETTER:
                raise ValueError(f"{path}: {name}: unknown metric {metric!r}")
            if HIGHER_IS_BETTER[metric] != (kind == "min"):
                raise ValueError(f"{path}: {name}: {metric} belongs under "
                                 f"{'min' if HIGHER_IS_BETTER[metric] else 'max'}")
    return SetFloor(split, bounds)


def load_floors(path: Path = FLOORS_PATH) -> Floors:
    """Read and sanity-check the floors file (unknown metrics or wrong directions are errors)."""
    raw: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    sets = {name: _check(Path(path), name, spec) for name, spec in raw.get("sets", {}).items()}
    return Floors(k=int(raw.get("k", 5)), sets=sets)


def violations(floor: SetFloor, scores: Scores | None, name: str = "") -> list[str]:
    """Every bound ``scores`` breaks, as readable lines (empty when all floors hold)."""
    label = f"{name}[{floor.split}]" if name else floor.split
    if scores is None:
        return [f"{label}: no items scored"]
    out = []
    for kind, metrics in floor.bounds.items():
        for metric, bound in metrics.items():
            value = getattr(scores, metric)
            broken = value is None or (value < bound if kind == "min" else value > bound)
            if broken:
                out.append(f"{label}.{metric} = {value if value is None else round(value, 3)} "
                           f"({'below floor' if kind == 'min' else 'above ceiling'} {bound})")
    return out
