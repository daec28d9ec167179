"""Point location: (lon, lat) → unit grid, community, subdistrict, district, city and H3 cells.

A point is answered by the finest tier whose polygon covers it (a point on a border belongs to
both sides; the smallest code, in string order, wins, and so it does where polygons of one tier
overlap in bad data). Coarser codes come from ``parent_code``, not from more polygon tests, so
a community always reports its own subdistrict even where two layers' shorelines disagree. A
point that no polygon covers is outside: it is never guessed into the nearest area.

Most points are answered by a table of H3 cells built once (``locator_build``); only points in
cells that a border crosses are tested against their few candidate polygons. ADR 0002 records
the design and the measurements.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar

import h3.api.basic_int as h3i
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely import intersects_xy

from onegrid.grid.domain import Level, Location
from onegrid.grid.locator_build import CellTable, Geoms, Ints, build_table
from onegrid.grid.locator_coarse import coarser_cells, unit_vectors
from onegrid.grid.locator_h3 import (
    MAX_RES,
    Cells,
    Floats,
    hex_string,
    points_to_cells,
    valid_lonlat,
)

Codes = NDArray[np.object_]
_T = TypeVar("_T", bound=np.generic)
OUTPUT_RES = (9, 10, 11)
# Sorting a large batch by cell first makes the table search and the polygon tests walk memory
# in order; below this size it does not pay.
_SORT_FROM = 20_000
# Deriving coarser cells has a fixed cost (~0.2 ms); for fewer points each is computed.
_DERIVE_FROM = 1_000
_DEPTH = {level: depth for depth, level in enumerate(Level)}


@dataclass(frozen=True)
class Shape:
    """One polygon of the hierarchy, already in WGS84 lon/lat."""

    code: str
    level: Level
    parent_code: str | None
    geometry: shapely.Polygon | shapely.MultiPolygon


@dataclass(frozen=True)
class LocatedBatch:
    """Column arrays, one entry per input point; ``""`` where a tier has no code or the point
    is outside; H3 cells are uint64 indexes (0 for invalid coordinates, and for every point at
    a resolution the caller did not ask for)."""

    unit_grid: Codes
    community: Codes
    subdistrict: Codes
    district: Codes
    city: Codes
    h3_9: Cells
    h3_10: Cells
    h3_11: Cells
    inside: NDArray[np.bool_]
    lon: Floats
    lat: Floats

    def __len__(self) -> int:
        return int(self.inside.size)

    def location(self, i: int) -> Location | None:
        """The i-th point as a domain Location; None when it is outside (or invalid)."""
        if not self.inside[i]:
            return None
        return Location(
            lon=float(self.lon[i]),
            lat=float(self.lat[i]),
            unit_grid=self.unit_grid[i] or None,
            community=self.community[i] or None,
            subdistrict=self.subdistrict[i] or None,
            district=self.district[i] or None,
            city=self.city[i] or None,
            h3_9=hex_string(int(self.h3_9[i])),
            h3_10=hex_string(int(self.h3_10[i])),
            h3_11=hex_string(int(self.h3_11[i])),
        )


# Location's code fields, finest first, in the order chains are stored.
_TIERS = (Level.UNIT_GRID, Level.COMMUNITY, Level.SUBDISTRICT, Level.DISTRICT, Level.CITY)
_TIER_FIELDS = ("unit_grid", "community", "subdistrict", "district", "city")


def _new_location(codes: dict[str, str | None], **values: float | str) -> Location:
    """``Location(**codes, **values)`` at a third of the cost: a frozen dataclass's
    ``__init__`` sets each of its ten fields through ``object.__setattr__``, which was a
    tenth of a single point's location. The result is the same object (the tests compare)."""
    location: Location = object.__new__(Location)
    fields = location.__dict__
    fields.update(codes)
    fields.update(values)
    return location


class Locator:
    """Built once from the city's shapes (``Locator.build``); immutable and thread-safe."""

    def __init__(self, shapes: tuple[Shape, ...], geoms: Geoms, table: CellTable) -> None:
        self._shapes = shapes
        self._geoms = geoms
        self._table = table
        self._views = _Views.of(table)
        # Each boundary cell's candidates as one slice of geometries: one point is tested
        # against all of a cell's candidates in a single Shapely call.
        self._candidate_geoms: Geoms = geoms[table.candidates] if geoms.size else geoms
        chains = _chains(shapes)
        self._chain_fields = [dict(zip(_TIER_FIELDS, c, strict=True)) for c in chains]
        # Index -1 (outside) lands on the trailing "" of every column.
        self._codes = {
            level: np.array([c[n] or "" for c in chains] + [""], dtype=object)
            for n, level in enumerate(_TIERS)
        }
        self._levels = tuple(sorted({s.level for s in shapes}, key=_DEPTH.__getitem__))

    @classmethod
    def build(cls, shapes: Iterable[Shape], *, index_res: int = 10) -> Locator:
        """Index ``shapes``; ``index_res`` is the finest H3 resolution of the cell table (cells
        a border crosses at that resolution are settled by polygon tests)."""
        if not 0 <= index_res <= MAX_RES:
            raise ValueError(f"index_res must be within 0..{MAX_RES}, not {index_res}")
        ordered = _prioritised(shapes)
        geoms: Geoms = np.array([_polygonal(s) for s in ordered] or [], dtype=object)
        if geoms.size:
            shapely.prepare(geoms)
            table = build_table(geoms, index_res)
            _warm(geoms)
        else:
            table = _empty_table(index_res)
        return cls(ordered, geoms, table)

    @property
    def levels(self) -> tuple[Level, ...]:
        """The tiers that have polygons, coarsest first."""
        return self._levels

    @property
    def index_res(self) -> int:
        return self._table.key_res

    @property
    def table_size(self) -> int:
        """Intervals in the cell table (interior cells of any resolution plus boundary cells)."""
        return int(self._table.lo.size)

    @property
    def boundary_cells(self) -> int:
        return self._table.boundary_cells

    def locate(self, lon: float, lat: float) -> Location | None:
        """Where one point lies; None if no polygon covers it. Raises ValueError for NaN or a
        coordinate out of range."""
        x, y = float(lon), float(lat)
        if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= 180.0 and abs(y) <= 90.0):
            raise ValueError(f"not a WGS84 lon/lat: ({lon}, {lat})")
        cells = [h3i.latlng_to_cell(y, x, res) for res in OUTPUT_RES]
        key_res = self._table.key_res
        key = (
            cells[OUTPUT_RES.index(key_res)]
            if key_res in OUTPUT_RES
            else h3i.latlng_to_cell(y, x, key_res)
        )
        owner = self._owner_of_one(key, x, y)
        if owner < 0:
            return None
        return _new_location(
            self._chain_fields[owner],
            lon=x,
            lat=y,
            h3_9=format(cells[0], "x"),
            h3_10=format(cells[1], "x"),
            h3_11=format(cells[2], "x"),
        )

    def locate_many(
        self, lon: ArrayLike, lat: ArrayLike, *, cells: Collection[int] = OUTPUT_RES
    ) -> LocatedBatch:
        """Locate arrays of points at once; invalid coordinates come back outside, H3 0.

        ``cells`` are the H3 resolutions (of 9, 10, 11) to compute for every point: exactly
        latlng_to_cell's cells, from one H3 pass at the finest resolution needed (the table's
        own, res 11 with unit grids, or the finest asked for) and ``locator_coarse`` below it.
        """
        unknown = set(cells) - set(OUTPUT_RES)
        if unknown:
            raise ValueError(f"cells must be among {OUTPUT_RES}, not {sorted(unknown)}")
        x = np.ravel(np.asarray(lon, dtype=np.float64))
        y = np.ravel(np.asarray(lat, dtype=np.float64))
        if x.shape != y.shape:
            raise ValueError(f"lon and lat differ in length: {x.size} and {y.size}")
        valid = valid_lonlat(x, y)
        everywhere = bool(valid.all())
        vx, vy = (x, y) if everywhere else (x[valid], y[valid])
        found, owners = self._cells_and_owners(vx, vy, set(cells))
        if not everywhere:
            owners = _spread(owners, valid, -1)
            found = {res: _spread(c, valid, 0) for res, c in found.items()}
        none = np.zeros(x.size, dtype=np.uint64)
        h3_cells = {res: found.get(res, none) for res in OUTPUT_RES}
        codes = {level: column[owners] for level, column in self._codes.items()}
        return LocatedBatch(
            unit_grid=codes[Level.UNIT_GRID],
            community=codes[Level.COMMUNITY],
            subdistrict=codes[Level.SUBDISTRICT],
            district=codes[Level.DISTRICT],
            city=codes[Level.CITY],
            h3_9=h3_cells[9],
            h3_10=h3_cells[10],
            h3_11=h3_cells[11],
            inside=owners >= 0,
            lon=x,
            lat=y,
        )

    def _cells_and_owners(
        self, x: Floats, y: Floats, wanted: set[int]
    ) -> tuple[dict[int, Cells], Ints]:
        """The points' H3 cells at the ``wanted`` resolutions, and their winning shapes (-1
        outside).

        One latlng_to_cell pass at the finest resolution needed; the coarser cells follow
        from it exactly (``locator_coarse``). A large batch is handled in the order of its
        finest cells: the table search, the polygon tests and the coarser cells' centres then
        walk memory in order, and coarser cells come out sorted too.
        """
        key_res = self._table.key_res
        resolutions = sorted(wanted | {key_res}, reverse=True)
        fine = points_to_cells(x, y, resolutions[0])
        order: NDArray[np.intp] | None = None
        if fine.size >= _SORT_FROM:
            order = np.argsort(fine)
            fine, x, y = fine[order], x[order], y[order]
        cells = {resolutions[0]: fine}
        if fine.size >= _DERIVE_FROM and len(resolutions) > 1:
            points = unit_vectors(x, y)
            cells |= {res: coarser_cells(fine, res, x, y, points) for res in resolutions[1:]}
        else:
            cells |= {res: points_to_cells(x, y, res) for res in resolutions[1:]}
        if self._table.lo.size:
            owners = self._owners_in_order(cells[key_res], x, y)
        else:
            owners = np.full(fine.size, -1, dtype=np.int64)
        if order is None:
            return {res: cells[res] for res in wanted}, owners
        return {res: _unsorted(cells[res], order) for res in wanted}, _unsorted(owners, order)

    def _owners_in_order(self, keys: Cells, x: Floats, y: Floats) -> Ints:
        table = self._table
        slot = np.searchsorted(table.lo, keys, side="right").astype(np.int64) - 1
        safe = np.maximum(slot, 0)
        found = (slot >= 0) & (keys <= table.hi[safe])
        value = np.where(found, table.value[safe], -1)
        owners = np.where(value >= 0, value, -1)
        tested = np.flatnonzero(found & (value < 0))
        if tested.size:
            owners[tested] = self._test(-1 - value[tested], x[tested], y[tested])
        return owners

    def _test(self, boundary: Ints, x: Floats, y: Floats) -> Ints:
        """Candidates in priority order, all points at once: round k tests every point that is
        still open against its k-th candidate (most points settle in round 0 or 1)."""
        table = self._table
        start = table.cand_start[boundary]
        count = table.cand_start[boundary + 1] - start
        result = np.full(boundary.size, -1, dtype=np.int64)
        open_ = np.arange(boundary.size)
        k = 0
        while open_.size:
            shape = table.candidates[start[open_] + k]
            last = count[open_] == k + 1
            hit = last & table.last_covers[boundary[open_]]
            tested = np.flatnonzero(~hit)
            if tested.size:
                rows = open_[tested]
                hit[tested] = shapely.intersects_xy(self._geoms[shape[tested]], x[rows], y[rows])
            result[open_[hit]] = shape[hit]
            open_ = open_[~hit & ~last]
            k += 1
        return result

    def _owner_of_one(self, key: int, x: float, y: float) -> int:
        """``_owners`` for one point, in plain Python over memoryviews of the same arrays (a
        numpy call per step would cost more than the step), and one Shapely call for all of a
        boundary cell's candidates."""
        table = self._views
        slot = bisect.bisect_right(table.lo, key) - 1
        if slot < 0 or key > table.hi[slot]:
            return -1
        value: int = table.value[slot]
        if value >= 0:
            return value
        boundary = -1 - value
        start, stop = table.cand_start[boundary], table.cand_start[boundary + 1]
        covered = table.last_covers[boundary]
        tested = stop - 1 if covered else stop  # a covering last candidate needs no test
        if start < tested:
            hits = intersects_xy(self._candidate_geoms[start:tested], x, y)
            first = int(hits.argmax())
            if hits[first]:
                return int(table.candidates[start + first])
        return int(table.candidates[tested]) if covered else -1


@dataclass(frozen=True)
class _Views:
    """The cell table as memoryviews: indexing them yields plain ints, fast from Python."""

    lo: memoryview
    hi: memoryview
    value: memoryview
    cand_start: memoryview
    candidates: memoryview
    last_covers: memoryview

    @classmethod
    def of(cls, table: CellTable) -> _Views:
        return cls(
            lo=table.lo.data,
            hi=table.hi.data,
            value=table.value.data,
            cand_start=table.cand_start.data,
            candidates=table.candidates.data,
            last_covers=table.last_covers.data,
        )


def _unsorted(values: NDArray[_T], order: NDArray[np.intp]) -> NDArray[_T]:
    """Values computed in ``order`` put back in the input's order."""
    out: NDArray[_T] = np.empty_like(values)
    out[order] = values
    return out


def _spread(values: NDArray[_T], where: NDArray[np.bool_], fill: int) -> NDArray[_T]:
    """Put the values of the valid rows back among all rows; ``fill`` elsewhere."""
    out: NDArray[_T] = np.full(where.size, fill, dtype=values.dtype)
    out[where] = values
    return out


def _prioritised(shapes: Iterable[Shape]) -> tuple[Shape, ...]:
    """Finest tier first, then smallest code: the order in which shapes win a point."""
    ordered = tuple(sorted(shapes, key=lambda s: (-_DEPTH[s.level], s.code)))
    for before, after in itertools.pairwise(ordered):
        if (before.level, before.code) == (after.level, after.code):
            raise ValueError(f"two {after.level} shapes share the code {after.code!r}")
    return ordered


def _polygonal(shape: Shape) -> shapely.Polygon | shapely.MultiPolygon:
    """The shape's geometry, repaired if invalid (GEOS "structure" method: holes stay holes)."""
    geometry = shape.geometry
    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon):
        raise ValueError(f"{shape.level} {shape.code}: geometry must be a (multi)polygon")
    if not geometry.is_valid:
        repaired = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
        parts = [p for p in shapely.get_parts(repaired) if isinstance(p, shapely.Polygon)]
        geometry = shapely.MultiPolygon(parts) if len(parts) != 1 else parts[0]
    if geometry.is_empty:
        raise ValueError(f"{shape.level} {shape.code}: geometry is empty")
    return geometry


Chain = tuple[str | None, str | None, str | None, str | None, str | None]


def _chains(shapes: tuple[Shape, ...]) -> list[Chain]:
    """Each shape's codes at every tier, finest first, following ``parent_code`` upwards.

    A parent that has no polygon (Beijing's districts name the city, 110000) still gives its
    code, at the tier just above the child; the chain stops there.
    """
    by_code: dict[str, list[Shape]] = {}
    for shape in shapes:
        by_code.setdefault(shape.code, []).append(shape)
    known: dict[tuple[Level, str], dict[Level, str]] = {}

    def codes_of(shape: Shape) -> dict[Level, str]:
        key = (shape.level, shape.code)
        if key not in known:
            codes: dict[Level, str] = {}
            parent = _parent(shape, by_code, codes)
            if parent is not None:
                codes.update(codes_of(parent))
            codes[shape.level] = shape.code
            known[key] = codes
        return known[key]

    chains: list[Chain] = []
    for shape in shapes:
        codes = codes_of(shape)
        chains.append(tuple(codes.get(level) for level in _TIERS))  # type: ignore[arg-type]
    return chains


def _parent(shape: Shape, by_code: dict[str, list[Shape]], codes: dict[Level, str]) -> Shape | None:
    """The parent shape, or None; a parent without polygon is written into ``codes``."""
    code = shape.parent_code
    if code is None:
        return None
    namesakes = by_code.get(code, [])
    depth = _DEPTH[shape.level]
    coarser = [p for p in namesakes if _DEPTH[p.level] < depth]
    if coarser:
        return max(coarser, key=lambda p: _DEPTH[p.level])
    if namesakes or depth == 0:
        raise ValueError(f"{shape.level} {shape.code}: parent {code!r} is not at a coarser tier")
    codes[list(Level)[depth - 1]] = code
    return None


def _warm(geoms: Geoms) -> None:
    """Build GEOS's lazy point-in-polygon indexes now, so later concurrent reads never race to
    build them."""
    west, south, _east, _north = shapely.bounds(geoms).T
    shapely.intersects_xy(geoms, west, south)


def _empty_table(key_res: int) -> CellTable:
    empty_cells = np.zeros(0, dtype=np.uint64)
    empty = np.zeros(0, dtype=np.int64)
    return CellTable(
        key_res=key_res,
        lo=empty_cells,
        hi=empty_cells,
        value=empty,
        cand_start=np.zeros(1, dtype=np.int64),
        candidates=empty,
        last_covers=np.zeros(0, dtype=bool),
    )
