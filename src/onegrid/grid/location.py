"""Point location through the database: which unit grid, community, subdistrict and district.

A ``Locator`` (``grid.locator``) is built from the areas and unit grids valid on a day and cached,
keyed by the newest grid change token and the day: any import or generation writes a new token,
so a stale locator is never used, and an unchanged grid is never rebuilt.

``on=None`` means the latest version of every area that is not retired (including a version
that takes effect on a future date); pass ``on`` to ask about a given day, e.g. the day a case
was reported.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Collection
from datetime import date

import numpy as np
import shapely
from numpy.typing import ArrayLike
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.errors import InvalidInput
from onegrid.grid.domain import Level, Location
from onegrid.grid.locator import OUTPUT_RES, LocatedBatch, Locator, Shape
from onegrid.grid.models import AreaRow, UnitGridRow
from onegrid.grid.storage import current_token, valid_on_clause

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, date | None], Locator] = OrderedDict()
_lock = threading.Lock()
_build_lock = threading.Lock()


def _shapes(session: Session, on: date | None) -> list[Shape]:
    areas = session.execute(
        select(AreaRow.code, AreaRow.level, AreaRow.parent_code, AreaRow.geometry).where(
            valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on)
        )
    ).all()
    grids = session.execute(
        select(UnitGridRow.code, UnitGridRow.community_code, UnitGridRow.geometry).where(
            valid_on_clause(UnitGridRow.valid_from, UnitGridRow.valid_to, on)
        )
    ).all()
    area_geoms = shapely.from_wkb(np.array([r.geometry for r in areas], dtype=object))
    grid_geoms = shapely.from_wkb(np.array([r.geometry for r in grids], dtype=object))
    shapes = [
        Shape(r.code, Level(r.level), r.parent_code, g)
        for r, g in zip(areas, area_geoms, strict=True)
    ]
    shapes += [
        Shape(r.code, Level.UNIT_GRID, r.community_code, g)
        for r, g in zip(grids, grid_geoms, strict=True)
    ]
    return shapes


def get_locator(session: Session, on: date | None = None) -> Locator:
    """The locator for the grid as it stands on ``on`` (cached until the grid changes)."""
    key = (current_token(session), on)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    # One build at a time: concurrent requests after an import wait for the first build
    # instead of all building the same index.
    with _build_lock:
        with _lock:
            found = _cache.get(key)
        if found is not None:
            return found
        shapes = list(_shapes(session, on))
        # With unit grids (≈ res-10 cells) a res-11 table keeps most points off the polygon
        # tests; without them, res 10 is fine-grained enough for districts and communities.
        has_grids = any(s.level is Level.UNIT_GRID for s in shapes)
        locator = Locator.build(shapes, index_res=11 if has_grids else 10)
        with _lock:
            _cache[key] = locator
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return locator


def clear_locator_cache() -> None:
    with _lock:
        _cache.clear()


def _check_point(lon: float, lat: float, record: str | None = None) -> None:
    problems = []
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        problems.append(("lon", f"longitude {lon} is outside -180..180"))
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        problems.append(("lat", f"latitude {lat} is outside -90..90"))
    if problems:
        field, message = problems[0]
        raise InvalidInput.one(field, "wgs84-range", message, record)


def locate(session: Session, lon: float, lat: float, on: date | None = None) -> Location | None:
    """Where a WGS84 point lies; None outside every area of the city."""
    _check_point(lon, lat)
    return get_locator(session, on).locate(lon, lat)


def locate_many(
    session: Session,
    lon: ArrayLike,
    lat: ArrayLike,
    on: date | None = None,
    *,
    cells: Collection[int] = OUTPUT_RES,
) -> LocatedBatch:
    """Many WGS84 points at once; the result's arrays line up with the input. ``cells`` are
    the H3 resolutions wanted (each costs about as much as the rest of the location)."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise InvalidInput.one("lon", "same-length", "lon and lat must be 1-D and equally long")
    bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0))
    if bad.any():
        i = int(np.argmax(bad))
        _check_point(float(x[i]), float(y[i]), record=f"point {i}")
    return get_locator(session, on).locate_many(x, y, cells=cells)
