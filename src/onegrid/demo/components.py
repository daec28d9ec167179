"""Synthetic components for the demo city: plausible classes, densities and owners."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from onegrid.demo.catalogue import BUREAUS

# Relative frequency of component classes on a city street (lamps, covers, trees dominate).
CLASS_WEIGHTS: dict[str, float] = {
    "C0115": 14,
    "C0401": 18,
    "C0101": 5,
    "C0102": 6,
    "C0103": 6,
    "C0104": 3,
    "C0105": 3,
    "C0106": 3,
    "C0107": 2,
    "C0108": 4,
    "C0109": 1,
    "C0110": 1,
    "C0113": 0.5,
    "C0114": 6,
    "C0117": 4,
    "C0118": 2,
    "C0119": 2,
    "C0120": 0.3,
    "C0121": 0.3,
    "C0122": 1,
    "C0123": 2,
    "C0124": 0.5,
    "C0125": 0.8,
    "C0126": 2,
    "C0204": 2,
    "C0205": 3,
    "C0206": 1.5,
    "C0207": 1.2,
    "C0208": 1,
    "C0209": 1.5,
    "C0210": 2,
    "C0211": 0.6,
    "C0212": 0.6,
    "C0213": 1,
    "C0301": 0.6,
    "C0302": 0.2,
    "C0303": 6,
    "C0304": 0.6,
    "C0306": 0.6,
    "C0307": 0.5,
    "C0402": 0.1,
    "C0404": 1,
    "C0406": 2,
    "C0408": 0.5,
    "C0409": 0.2,
}
STATES = ("normal", "normal", "normal", "normal", "normal", "normal", "damaged", "under_repair")


def owner_of(class_code: str) -> str:
    """The department whose duty prefix matches the class most specifically."""
    best, best_len = "CGW", 0
    for dept in BUREAUS:
        for prefix in dept.owns:
            if class_code.startswith(prefix) and len(prefix) > best_len:
                best, best_len = dept.code, len(prefix)
    return best


def component_records(
    grids: Sequence[tuple[str, shapely.Geometry]],
    per_grid: int,
    seed: int,
    known_classes: Mapping[str, str],
) -> Iterator[dict[str, Any]]:
    """About ``per_grid`` components scattered inside each unit grid, the same for a seed."""
    rng = np.random.default_rng(seed + 7)
    codes = [c for c in CLASS_WEIGHTS if c in known_classes]
    weights = np.array([CLASS_WEIGHTS[c] for c in codes])
    weights = weights / weights.sum()
    for grid_code, geom in grids:
        n = int(rng.poisson(per_grid))
        if n == 0:
            continue
        xs, ys = _points_inside(geom, n, rng)
        classes = rng.choice(len(codes), size=len(xs), p=weights)
        for x, y, k in zip(xs, ys, classes, strict=True):
            cls = codes[int(k)]
            owner = owner_of(cls)
            year = int(rng.integers(2008, 2026))
            yield {
                "class_code": cls,
                "name": f"{known_classes[cls]} {grid_code[-6:]}",
                "lon": round(float(x), 7),
                "lat": round(float(y), 7),
                "owner": owner,
                "maintainer": owner,
                "competent_department": owner,
                "state": STATES[int(rng.integers(0, len(STATES)))],
                "first_recorded": f"{year}-{int(rng.integers(1, 13)):02d}-01",
            }


def _points_inside(
    geom: shapely.Geometry, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = geom.bounds
    xs = rng.uniform(minx, maxx, n * 3)
    ys = rng.uniform(miny, maxy, n * 3)
    inside = shapely.contains_xy(geom, xs, ys)
    return xs[inside][:n], ys[inside][:n]
