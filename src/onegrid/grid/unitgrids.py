"""Unit grids for a city that has no official ones: H3 cells clipped to each area.

Each area (a community, or the finest level the city has) is covered by the H3 cells that overlap
it, each cell clipped to the area. A clipped piece smaller than 5 % of a cell is a sliver nobody
could patrol as a unit: it joins its largest neighbouring grid in the same area. The grids are
numbered like text on a map: rows from north to south, west to east within a row, and coded
``<area code padded to 12 digits><3-digit sequence>`` (DB11/T 2157-2023's 15-digit layout).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import shapely

from onegrid.grid.crs import area_m2
from onegrid.grid.domain import MAX_GRIDS_PER_AREA, unit_grid_code

DEFAULT_RES = 10
SLIVER_SHARE = 0.05
# Snapping cells to 1e-9° (0.1 mm) makes neighbours share their vertices exactly, so clipped
# pieces meet without hairline gaps or overlaps.
_GRID_SIZE = 1e-9
_METRES_PER_DEGREE = 111_320.0


class TooManyGridsError(ValueError):
    def __init__(self, area_code: str, count: int, res: int) -> None:
        self.area_code, self.count, self.res = area_code, count, res
        super().__init__(
            f"area {area_code} would need {count} unit grids at H3 res {res}, but a 15-digit "
            f"code numbers at most {MAX_GRIDS_PER_AREA} per area; use a coarser resolution "
            f"(res {res - 1} cells are about 7x larger) or generate at a finer area level"
        )


@dataclass(frozen=True)
class GeneratedGrid:
    code: str
    sequence: int
    h3_cell: str
    """The cell the grid grew from; slivers merged into it are in ``cells``."""
    cells: tuple[str, ...]
    geometry: Any
    area_m2: float


def _cell_polygons(cells: list[str]) -> Any:
    """Cell outlines as polygons, built in one vectorised call; vertices are rounded to the
    snapping grid so that neighbours share them exactly."""
    rings = [h3.cell_to_boundary(c) for c in cells]
    coords = np.round(np.array([(lng, lat) for ring in rings for lat, lng in ring]), 9)
    owner = np.repeat(np.arange(len(cells)), [len(ring) for ring in rings])
    return shapely.polygons(shapely.linearrings(coords, indices=owner))


def _clip(polygons: Any, geometry: Any) -> Any:
    """Each cell cut to the area. Most cells lie wholly inside and are kept as they are; only
    those the border crosses pay for an overlay."""
    shapely.prepare(geometry)
    inside = shapely.contains_properly(geometry, polygons)
    clipped = polygons.copy()
    clipped[~inside] = shapely.intersection(polygons[~inside], geometry, grid_size=_GRID_SIZE)
    return clipped


def covering_cells(geometry: Any, res: int) -> set[str]:
    """Every res-``res`` cell that may overlap ``geometry`` (a superset; clipping decides).

    Cells whose centre is inside, plus the cells along the densified boundary and their
    neighbours: a cell that overlaps the area without holding its centre must be crossed by the
    boundary, and sampling it at a third of an edge length cannot miss a cell by more than one.
    """
    cells: set[str] = set(h3.geo_to_cells(geometry, res))
    step = h3.average_hexagon_edge_length(res, "m") / 3 / _METRES_PER_DEGREE
    boundary = shapely.segmentize(shapely.boundary(geometry), step)
    coords = shapely.get_coordinates(boundary)
    edge = {h3.latlng_to_cell(lat, lng, res) for lng, lat in coords}
    for cell in edge:
        cells.update(h3.grid_disk(cell, 1))
    return cells


def _polygonal(geometry: Any) -> Any:
    """Intersections can carry stray lines and points where edges touch; keep the area."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts, grid_size=_GRID_SIZE)


def _group_slivers(cells: list[str], areas: dict[str, float], slivers: set[str]) -> dict[str, str]:
    """Map every cell to the root cell of its grid: slivers join their largest neighbour."""
    root = {c: c for c in cells if c not in slivers}
    size = {c: areas[c] for c in root}
    pending = sorted(slivers, key=lambda c: (-areas[c], c))
    while pending:
        rest: list[str] = []
        for cell in pending:
            roots = {root[n] for n in h3.grid_ring(cell, 1) if n in root}
            if roots:
                target = max(roots, key=lambda r: (size[r], r))
                root[cell] = target
                size[target] += areas[cell]
            else:
                rest.append(cell)
        if len(rest) == len(pending):
            # An island of slivers with no full cell beside it: its largest piece becomes a grid.
            head = rest.pop(0)
            root[head] = head
            size[head] = areas[head]
        pending = rest
    return root


def _number(roots: list[str], geometries: list[Any], row_height: float) -> list[int]:
    """Order of the grids: rows north to south (rows one cell high), west to east in a row."""
    centroids = shapely.get_coordinates(shapely.centroid(np.array(geometries, dtype=object)))
    north = float(np.max(centroids[:, 1]))
    rows = np.floor((north - centroids[:, 1]) / row_height).astype(int)
    return sorted(range(len(roots)), key=lambda i: (rows[i], centroids[i, 0], roots[i]))


def generate_for_area(area_code: str, geometry: Any, res: int = DEFAULT_RES) -> list[GeneratedGrid]:
    """The unit grids of one area (WGS84 geometry), numbered from 001."""
    candidates = sorted(covering_cells(geometry, res))
    polygons = _cell_polygons(candidates)
    clipped = _clip(polygons, geometry)
    piece_areas = area_m2(clipped)
    keep = [i for i, a in enumerate(piece_areas) if a > 0]
    cells = [candidates[i] for i in keep]
    pieces = {candidates[i]: _polygonal(clipped[i]) for i in keep}
    areas = {candidates[i]: float(piece_areas[i]) for i in keep}
    full = {c: h3.cell_area(c, "m^2") for c in cells}
    slivers = {c for c in cells if areas[c] < SLIVER_SHARE * full[c]}
    if len(slivers) == len(cells):
        slivers = set()  # an area smaller than a sliver everywhere: keep what there is
    root = _group_slivers(cells, areas, slivers)
    members: dict[str, list[str]] = {}
    for cell in cells:
        members.setdefault(root[cell], []).append(cell)
    roots = sorted(members)
    if len(roots) > MAX_GRIDS_PER_AREA:
        raise TooManyGridsError(area_code, len(roots), res)
    shapes = [
        shapely.union_all([pieces[c] for c in members[r]], grid_size=_GRID_SIZE) for r in roots
    ]
    bounds = shapely.bounds(polygons)
    row_height = float(np.median(bounds[:, 3] - bounds[:, 1]))
    order = _number(roots, shapes, row_height)
    sizes = area_m2(np.array(shapes, dtype=object))
    return [
        GeneratedGrid(
            unit_grid_code(area_code, seq),
            seq,
            roots[i],
            tuple(sorted(members[roots[i]])),
            shapes[i],
            float(sizes[i]),
        )
        for seq, i in enumerate(order, start=1)
    ]


def estimated_grid_count(areas_m2: Iterable[float], res: int) -> int:
    """About how many grids areas of these sizes (m²) need; for a quick plan before work."""
    cell = h3.average_hexagon_area(res, "m^2")
    return sum(max(1, math.ceil(a / cell)) for a in areas_m2)
