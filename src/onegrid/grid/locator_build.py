"""The locator's cell table: which H3 cells one shape answers, and which need a polygon test.

Shapes come in priority order (index 0 wins): a point's answer is the first shape that covers
it. The table is refined from coarse cells down to ``index_res``, like a quadtree:

- every cell is judged by a *disk* around its centre, 1.25 × the cell's circumradius. Points
  whose fine cell descends from the cell lie within 1.05 circumradii of its centre (H3 children
  stick out of their parent a little; measured over resolutions 7–15 and latitudes 0–60°), so
  the disk holds every point the table sends to that cell, whatever the exact H3 geometry;
- a cell whose disk meets no shape is outside and is not stored;
- a cell whose first (winning) candidate covers its whole disk is answered by that shape for
  every point, and is stored as it is, at its own coarse resolution;
- any other cell is split into its 7 children, and at ``index_res`` it becomes a boundary cell
  that keeps its candidates in priority order, cut after the first one that covers the disk
  (shapes after it can never win).

Work and memory therefore grow with the length of the borders, not with the area of the city.
Each stored cell is an interval of res-``index_res`` cell indexes (see ``descendant_ranges``), so
the query is one ``searchsorted`` over all resolutions at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import h3.api.basic_int as h3i
import numpy as np
import shapely
from numpy.typing import NDArray

from onegrid.grid.locator_h3 import (
    METRES_PER_DEGREE,
    Cells,
    Floats,
    cell_centers,
    cell_children,
    descendant_ranges,
)

Ints = NDArray[np.int64]
Geoms = NDArray[np.object_]

DISK_FACTOR = 1.25
_CHUNK = 50_000
_SAMPLES_PER_SIDE = 5
_MIN_ROOT_RES = 3
_ROOTS_WANTED = 16
# A 12-gon drawn around the disk, not inside it, so it holds the whole disk.
_ANGLES = np.linspace(0.0, 2.0 * math.pi, 13)
_UNIT_RING = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)]) / math.cos(math.pi / 12)


@dataclass(frozen=True)
class CellTable:
    """Sorted, disjoint intervals of res-``key_res`` cell indexes, each with its answer.

    ``value[i] >= 0`` is the shape answering every point of interval i; ``value[i] < 0`` marks
    boundary cell ``-1 - value[i]``, whose candidates are
    ``candidates[cand_start[b]:cand_start[b + 1]]`` in priority order; when ``last_covers[b]``
    the last candidate covers the whole cell, so a point reaching it needs no test.
    """

    key_res: int
    lo: Cells
    hi: Cells
    value: Ints
    cand_start: Ints
    candidates: Ints
    last_covers: NDArray[np.bool_]

    @property
    def boundary_cells(self) -> int:
        return int(self.last_covers.size)


@dataclass
class _Collector:
    key_res: int
    lo: list[Cells] = field(default_factory=list)
    hi: list[Cells] = field(default_factory=list)
    value: list[Ints] = field(default_factory=list)
    counts: list[Ints] = field(default_factory=list)
    candidates: list[Ints] = field(default_factory=list)
    last_covers: list[NDArray[np.bool_]] = field(default_factory=list)
    boundaries: int = 0

    def interior(self, cells: Cells, res: int, shapes: Ints) -> None:
        lo, hi = descendant_ranges(cells, res, self.key_res)
        self.lo.append(lo)
        self.hi.append(hi)
        self.value.append(shapes.astype(np.int64))

    def boundary(
        self, cells: Cells, counts: Ints, candidates: Ints, last_covers: NDArray[np.bool_]
    ) -> None:
        lo, hi = descendant_ranges(cells, self.key_res, self.key_res)
        ids = self.boundaries + np.arange(cells.size, dtype=np.int64)
        self.boundaries += cells.size
        self.lo.append(lo)
        self.hi.append(hi)
        self.value.append(-1 - ids)
        self.counts.append(counts)
        self.candidates.append(candidates)
        self.last_covers.append(last_covers)

    def table(self) -> CellTable:
        lo, hi, value = _merged(
            _cat(self.lo, np.uint64), _cat(self.hi, np.uint64), _cat(self.value, np.int64)
        )
        counts = _cat(self.counts, np.int64)
        return CellTable(
            key_res=self.key_res,
            lo=lo,
            hi=hi,
            value=value,
            cand_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            candidates=_cat(self.candidates, np.int64),
            last_covers=_cat(self.last_covers, np.bool_),
        )


def _cat(parts: list[Any], dtype: Any) -> Any:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _merged(lo: Cells, hi: Cells, value: Ints) -> tuple[Cells, Cells, Ints]:
    """Sort the intervals and join neighbours answered by the same shape (fewer, cache-friendly
    keys for the search)."""
    order = np.argsort(lo, kind="stable")
    lo, hi, value = lo[order], hi[order], value[order]
    if lo.size < 2:
        return lo, hi, value
    joins = (value[:-1] >= 0) & (value[:-1] == value[1:]) & (hi[:-1] + np.uint64(1) == lo[1:])
    starts = np.flatnonzero(np.concatenate([[True], ~joins]))
    ends = np.concatenate([starts[1:] - 1, [lo.size - 1]])
    return lo[starts], hi[ends], value[starts]


@dataclass(frozen=True)
class _Shapes:
    geoms: Geoms
    tree: shapely.STRtree
    bounds: NDArray[np.float64]


def build_table(geoms: Geoms, index_res: int) -> CellTable:
    """Classify the cells around ``geoms`` (prepared, in priority order) down to ``index_res``."""
    shapes = _Shapes(geoms, shapely.STRtree(geoms), shapely.bounds(geoms))
    west, south, east, north = (float(v) for v in shapely.total_bounds(geoms))
    root_res = _root_res((west, south, east, north), index_res)
    radii = _disk_radii((west, south, east, north), root_res, index_res)
    cells = _root_cells((west, south, east, north), root_res, radii[root_res])
    collector = _Collector(key_res=index_res)
    for res in range(root_res, index_res + 1):
        final = res == index_res
        pending = [
            _classify(chunk, res, radii[res], shapes, final, collector) for chunk in _chunks(cells)
        ]
        if final:
            break
        cells = cell_children(np.concatenate(pending), res) if pending else cells[:0]
    return collector.table()


def _chunks(cells: Cells) -> Iterator[Cells]:
    for start in range(0, cells.size, _CHUNK):
        yield cells[start : start + _CHUNK]


def _root_res(bounds: tuple[float, float, float, float], index_res: int) -> int:
    """The coarsest resolution (not below 3) with a handful of cells across the shapes."""
    west, south, east, north = bounds
    mid = math.radians((south + north) / 2)
    area_km2 = ((east - west) * math.cos(mid) * (north - south)) * (METRES_PER_DEGREE / 1e3) ** 2
    start = min(_MIN_ROOT_RES, index_res)
    for res in range(start, index_res + 1):
        if h3i.average_hexagon_area(res, unit="km^2") <= area_km2 / _ROOTS_WANTED:
            return res
    return index_res


def _samples(bounds: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    west, south, east, north = bounds
    lons = np.linspace(west, east, _SAMPLES_PER_SIDE)
    lats = np.linspace(south, north, _SAMPLES_PER_SIDE)
    return [(float(lon), float(lat)) for lon in lons for lat in lats]


def _disk_radii(
    bounds: tuple[float, float, float, float], root_res: int, index_res: int
) -> dict[int, float]:
    """Disk radius in metres per resolution: DISK_FACTOR × the largest circumradius sampled
    over the shapes' extent (cell sizes drift by ~3 % across a city)."""
    radii: dict[int, float] = {}
    for res in range(root_res, index_res + 1):
        largest = 0.0
        for lon, lat in _samples(bounds):
            cell = h3i.latlng_to_cell(lat, lon, res)
            centre = h3i.cell_to_latlng(cell)
            for vertex in h3i.cell_to_boundary(cell):
                largest = max(largest, h3i.great_circle_distance(centre, vertex, unit="m"))
        radii[res] = DISK_FACTOR * largest
    return radii


def _root_cells(bounds: tuple[float, float, float, float], res: int, radius_m: float) -> Cells:
    """Every res-``res`` cell whose disk could reach the shapes' bounding box."""
    west, south, east, north = bounds
    pad_lat = radius_m / METRES_PER_DEGREE
    pad_lon = pad_lat / max(math.cos(math.radians(max(abs(south), abs(north)))), 1e-6)
    s, n = max(south - pad_lat, -89.999), min(north + pad_lat, 89.999)
    w, e = max(west - pad_lon, -180.0), min(east + pad_lon, 180.0)
    box = h3i.LatLngPoly([(s, w), (s, e), (n, e), (n, w)])
    seeds = set(h3i.polygon_to_cells(box, res))
    seeds.update(h3i.latlng_to_cell(lat, lon, res) for lon, lat in _samples(bounds))
    cells: set[int] = set()
    for seed in seeds:
        cells.update(h3i.grid_disk(seed, 1))
    return np.array(sorted(cells), dtype=np.uint64)


@dataclass(frozen=True)
class _Disks:
    """Each cell's disk as a polygon, and its centre."""

    polygons: Geoms
    lon: Floats
    lat: Floats


def _disks(cells: Cells, radius_m: float) -> _Disks:
    lon, lat = cell_centers(cells)
    dlat = radius_m / METRES_PER_DEGREE
    dlon = np.minimum(dlat / np.maximum(np.cos(np.radians(lat)), 1e-6), 360.0)
    xs = lon[:, None] + dlon[:, None] * _UNIT_RING[None, :, 0]
    ys = lat[:, None] + dlat * _UNIT_RING[None, :, 1]
    vertices = _UNIT_RING.shape[0]
    rings = np.arange(0, vertices * cells.size + 1, vertices)
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON,
        np.column_stack([xs.ravel(), ys.ravel()]),
        (rings, np.arange(cells.size + 1)),
    )
    return _Disks(polygons, lon, lat)


def _classify(
    cells: Cells,
    res: int,
    radius_m: float,
    shapes: _Shapes,
    final: bool,
    collector: _Collector,
) -> Cells:
    """Store the cells that are decided; return those to split into children."""
    disks = _disks(cells, radius_m)
    cell_i, shape_j = shapes.tree.query(disks.polygons)
    if cell_i.size == 0:
        return cells[:0]
    order = np.lexsort((shape_j, cell_i))
    walk = _walk(cell_i[order], shape_j[order], _Pairs(disks, shapes), final)
    cell_k, shape_k, covers_k = walk
    if cell_k.size == 0:
        return cells[:0]
    starts = _group_starts(cell_k)
    first_covers = covers_k[starts]
    collector.interior(cells[cell_k[starts[first_covers]]], res, shape_k[starts[first_covers]])
    open_groups = ~first_covers
    if not final:
        return cells[cell_k[starts[open_groups]]]
    sizes = np.diff(np.append(starts, cell_k.size))
    keep = np.repeat(open_groups, sizes)
    kept_cells, kept_covers = cell_k[keep], covers_k[keep]
    kept_starts = _group_starts(kept_cells)
    if kept_starts.size:
        collector.boundary(
            cells[kept_cells[kept_starts]],
            np.diff(np.append(kept_starts, kept_cells.size)).astype(np.int64),
            shape_k[keep],
            np.logical_or.reduceat(kept_covers, kept_starts),
        )
    return cells[:0]


def _group_starts(sorted_ids: Ints) -> Ints:
    if sorted_ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], sorted_ids[1:] != sorted_ids[:-1]]))


class _Pairs:
    """Predicates between cell disks and shapes, with cheap answers tried first."""

    def __init__(self, disks: _Disks, shapes: _Shapes) -> None:
        self.disks, self.geoms = disks.polygons, shapes.geoms
        self.disk_bounds = shapely.bounds(disks.polygons)
        self.shape_bounds = shapes.bounds
        self.centre_x, self.centre_y = disks.lon, disks.lat

    def covers(self, shape: Ints, cell: Ints) -> NDArray[np.bool_]:
        """A shape covers a disk only if its bounding box holds the disk's: most pairs of a
        small shape and a disk fail that without a polygon test."""
        inner, outer = self.disk_bounds[cell], self.shape_bounds[shape]
        result: NDArray[np.bool_] = np.all(inner[:, :2] >= outer[:, :2], axis=1) & np.all(
            inner[:, 2:] <= outer[:, 2:], axis=1
        )
        maybe = np.flatnonzero(result)
        result[maybe] = _predicate(
            shapely.covers, self.geoms, shape[maybe], self.disks, cell[maybe]
        )
        return result

    def meets(self, shape: Ints, cell: Ints) -> NDArray[np.bool_]:
        """A shape holding the disk's centre meets it; only the others need a polygon test."""
        order = np.argsort(shape, kind="stable")
        result = np.empty(shape.size, dtype=bool)
        result[order] = shapely.intersects_xy(
            self.geoms[shape[order]], self.centre_x[cell[order]], self.centre_y[cell[order]]
        )
        rest = np.flatnonzero(~result)
        result[rest] = _predicate(
            shapely.intersects, self.geoms, shape[rest], self.disks, cell[rest]
        )
        return result


def _walk(
    cell_i: Ints, shape_j: Ints, pairs: _Pairs, final: bool
) -> tuple[Ints, Ints, NDArray[np.bool_]]:
    """Walk each cell's bounding-box hits in priority order, keeping those that meet its disk,
    and stop at the first that covers it (or, above ``index_res``, at the first that meets it:
    that one alone decides between "answered" and "split"). Shapes after the stop are never
    tested, which spares the large coarse polygons almost every test."""
    starts = _group_starts(cell_i)
    counts = np.diff(np.append(starts, cell_i.size))
    kept: list[tuple[Ints, Ints, NDArray[np.bool_], NDArray[np.int64]]] = []
    open_ = np.arange(starts.size)
    k = 0
    while open_.size:
        pair = starts[open_] + k
        cell, shape = cell_i[pair], shape_j[pair]
        covers = pairs.covers(shape, cell)
        meets = covers.copy()
        rest = np.flatnonzero(~covers)
        meets[rest] = pairs.meets(shape[rest], cell[rest])
        kept.append((cell[meets], shape[meets], covers[meets], np.full(meets.sum(), k)))
        done = covers | (counts[open_] == k + 1)
        if not final:
            done |= meets
        open_ = open_[~done]
        k += 1
    cell_k, shape_k, covers_k, round_k = (
        np.concatenate(parts) for parts in zip(*kept, strict=True)
    )
    order = np.lexsort((round_k, cell_k))
    return cell_k[order], shape_k[order], covers_k[order]


def _predicate(
    predicate: Any, geoms: Geoms, shape: Ints, disks: Geoms, cell: Ints
) -> NDArray[np.bool_]:
    """``predicate(shape, disk)`` pairwise, evaluated in shape order: the same prepared polygon
    tested in a run stays in the CPU cache (ten times faster than random order)."""
    order = np.argsort(shape, kind="stable")
    result = np.empty(shape.size, dtype=bool)
    result[order] = predicate(geoms[shape[order]], disks[cell[order]])
    return result
