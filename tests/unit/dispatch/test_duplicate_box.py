"""The box a duplicate check filters by in SQL never drops a report within the radius."""

from __future__ import annotations

import math
import random

import pytest

from onegrid.dispatch.duplicates.domain import EARTH_RADIUS_M, distance_m
from onegrid.dispatch.duplicates.index import search_box


def _point_at(lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    """The point ``metres`` away from (lon, lat) along ``bearing`` (radians), on the sphere."""
    d = metres / EARTH_RADIUS_M
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(l2), math.degrees(p2)


@pytest.mark.parametrize("lat", [0.0, 22.5, 39.9, -33.9, 60.2, 78.0])
@pytest.mark.parametrize("radius", [50.0, 150.0, 5000.0])
def test_every_point_within_the_radius_lies_in_the_box(lat: float, radius: float) -> None:
    rng = random.Random(f"{lat}/{radius}")
    lon = 116.4
    box = search_box(lon, lat, radius)
    for _ in range(2000):
        bearing = rng.uniform(0, 2 * math.pi)
        x, y = _point_at(lon, lat, radius * math.sqrt(rng.random()), bearing)
        assert distance_m(lon, lat, x, y) <= radius * (1 + 1e-9)
        assert box["west"] <= x <= box["east"] and box["south"] <= y <= box["north"]
    # ... and the box is not much wider than the circle: it saves reading the rest of a ring.
    edge_x, _ = _point_at(lon, lat, radius * 1.2, math.pi / 2)
    _, edge_y = _point_at(lon, lat, radius * 1.2, 0.0)
    assert box["east"] < edge_x and box["north"] < edge_y
