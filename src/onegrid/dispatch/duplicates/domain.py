"""When a new report duplicates an open case: nearness and text similarity, in plain Python.

score = distance_weight × (1 − distance / radius) + text_weight × similarity, over candidates of
the same category within ``radius_m`` and ``window_hours``; a candidate scoring at least
``threshold`` is proposed. Similarity is the Dice coefficient of character bigrams of the
normalised texts: it needs no word segmentation, so Chinese and English are treated alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from onegrid.core.errors import FieldProblem, InvalidInput

EARTH_RADIUS_M = 6_371_007.2  # the authalic radius H3 measures on
INDEX_RESOLUTION = 9  # cells of ~0.1 km²: a few cover any sensible radius
_EDGE_M_RES9 = 174.4  # the mean edge of a res-9 cell (h3.average_hexagon_edge_length)
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class DuplicateRules:
    radius_m: float = 150.0
    window_hours: float = 168.0
    distance_weight: float = 0.5
    text_weight: float = 0.5
    threshold: float = 0.55
    max_candidates: int = 3
    max_scanned: int = 100  # the newest open reports near it that a check scores

    @property
    def ring(self) -> int:
        """How many rings of index cells around the report's cell cover the radius: a point
        anywhere in a cell is at least ~0.85 edge from the next ring, per ring crossed."""
        return max(1, math.ceil(self.radius_m / (0.85 * _EDGE_M_RES9)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DuplicateRules:
        rules = cls(
            **{k: type(getattr(cls(), k))(v) for k, v in data.items() if k in cls.__annotations__}
        )
        problems = []
        if not 0 < rules.radius_m <= 5000:
            problems.append(FieldProblem("radius_m", "range", "a radius from 1 to 5000 m"))
        if rules.window_hours <= 0:
            problems.append(FieldProblem("window_hours", "range", "a positive number of hours"))
        if abs(rules.distance_weight + rules.text_weight - 1.0) > 1e-9:
            problems.append(
                FieldProblem("text_weight", "weights_sum", "the two weights must add up to 1")
            )
        if not 0 <= rules.threshold <= 1:
            problems.append(FieldProblem("threshold", "range", "a score from 0 to 1"))
        if not 1 <= rules.max_scanned <= 10_000:
            problems.append(
                FieldProblem("max_scanned", "range", "how many reports a check reads: 1 to 10000")
            )
        if problems:
            raise InvalidInput(problems)
        return rules


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


# Open reports near a hot spot are scored again by every new report there, so their bigrams
# are kept: 2,048 sets, ~5 kB for a typical report of 50 characters (~50 kB at the index's
# 400-character cap).
@lru_cache(maxsize=2048)
def bigrams(text: str) -> frozenset[str]:
    clean = _NOISE.sub("", text.lower())
    if len(clean) < 2:
        return frozenset({clean}) if clean else frozenset()
    return frozenset(clean[i : i + 2] for i in range(len(clean) - 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two bigram sets: 1 for the same text, 0 for nothing in common."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def score(rules: DuplicateRules, distance: float, text_similarity: float) -> float:
    nearness = max(0.0, 1.0 - distance / rules.radius_m)
    return rules.distance_weight * nearness + rules.text_weight * text_similarity
