"""The demo city's standard address register: synthetic streets and their door plates.

Pure geometry, no database: the same areas always give the same addresses. Each community has
two streets through it, a road (路) running east–west and a street (街) running north–south,
named after the community; door plates stand every ``SPACING_M`` metres along them, odd
numbers on one side and even on the other, as Chinese door plates are numbered. The full text
names the city, district and subdistrict, so a street name may recur in another subdistrict.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, Point, Polygon

from onegrid.demo.geometry import CENTRE, CITY_NAME, SynthArea

SPACING_M = 60.0
SIDE_M = 12.0  # a door plate stands this far beside the street's centre line
_M_LAT = 1 / 110_950.0
_M_LON = 1 / (111_320.0 * math.cos(math.radians(CENTRE[1])))


@dataclass(frozen=True)
class DemoAddress:
    id: str
    text: str
    lon: float
    lat: float


def _longest(geometry: shapely.Geometry) -> LineString | None:
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, LineString)]
    parts = [p for p in parts if not p.is_empty]
    return max(parts, key=lambda p: p.length) if parts else None


def _street(shape: Polygon, east_west: bool) -> LineString | None:
    """The street's centre line: across the community through its representative point."""
    minx, miny, maxx, maxy = shape.bounds
    p = shape.representative_point()
    line = LineString([(minx, p.y), (maxx, p.y)] if east_west else [(p.x, miny), (p.x, maxy)])
    return _longest(shape.intersection(line))


def _plates(shape: Polygon, line: LineString, east_west: bool) -> Iterator[tuple[int, Point]]:
    """Door plates along the line, numbered from its west (or south) end: 1, 3, 5 … on the
    north (or east) side, 2, 4, 6 … across; a plate that would fall outside is left out."""
    start, end = line.coords[0], line.coords[-1]
    length_m = math.hypot((end[0] - start[0]) / _M_LON, (end[1] - start[1]) / _M_LAT)
    steps = int(length_m // SPACING_M)
    for k in range(steps):
        f = (k + 0.5) * SPACING_M / length_m
        x = start[0] + (end[0] - start[0]) * f
        y = start[1] + (end[1] - start[1]) * f
        for side, number in ((1, 2 * k + 1), (-1, 2 * k + 2)):
            if east_west:
                plate = Point(x, y + side * SIDE_M * _M_LAT)
            else:
                plate = Point(x + side * SIDE_M * _M_LON, y)
            if shape.contains(plate):
                yield number, plate


def demo_addresses(areas: Sequence[SynthArea]) -> list[DemoAddress]:
    """Every door plate of the demo's streets, with ids ``<community code><5-digit sequence>``."""
    names = {a.code: a.name_zh for a in areas}
    parents = {a.code: a.parent_code for a in areas}
    out: list[DemoAddress] = []
    for c in areas:
        if c.level != "community" or c.parent_code is None:
            continue
        subdistrict = c.parent_code
        district = parents.get(subdistrict) or ""
        prefix = f"{CITY_NAME[0]}{names.get(district, '')}{names[subdistrict]}"
        word = c.name_zh.removeprefix(names[subdistrict].removesuffix("街道"))
        word = word.removesuffix("社区")
        sequence = 0
        for east_west, kind in ((True, "路"), (False, "街")):
            line = _street(c.geometry, east_west)
            if line is None:
                continue
            for number, plate in _plates(c.geometry, line, east_west):
                sequence += 1
                out.append(
                    DemoAddress(
                        f"{c.code}{sequence:05d}",
                        f"{prefix}{word}{kind}{number}号",
                        round(plate.x, 7),
                        round(plate.y, 7),
                    )
                )
    return out
