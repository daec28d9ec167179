"""Point location through the database: which unit grid, community, subdistrict and district.

A ``Locator`` (``grid.locator``) is built from the areas and unit grids valid on a day and cached,
keyed by the newest grid change token and the day: any import or generation writes a new token,
so a stale locator is never used, and an unchanged grid is never rebuilt.

An import may schedule a boundary change for a future date, so "the latest grid" and "the grid
today" differ until that date. Whatever locates something happening now (a case reported, a
device registered, an alert raised) passes the city's today as ``on``. ``on=None`` means the
latest version of every area that is not retired, including one that takes effect later: it
is for admin views of the newest boundaries, never for placing a report.

The grid's *horizon* is the last day on which any version starts or ends; from it on, every day
has the latest grid. A day at or after the horizon (the usual case: today, with no change
scheduled) shares the ``on=None`` locator, so asking for today builds nothing extra.
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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onegrid.core.errors import InvalidInput
from onegrid.grid.domain import Level, Location
from onegrid.grid.locator import OUTPUT_RES, LocatedBatch, Locator, Shape
from onegrid.grid.models import AreaRow, UnitGridRow
from onegrid.grid.storage import current_token, valid_on_clause

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, date | None], Locator] = OrderedDict()
_horizons: OrderedDict[str, date] = OrderedDict()
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


# The last day on which a version of an area or unit grid starts, or ends.
_LAST_CHANGES = select(
    select(func.max(AreaRow.valid_from)).scalar_subquery(),
    select(func.max(AreaRow.valid_to)).scalar_subquery(),
    select(func.max(UnitGridRow.valid_from)).scalar_subquery(),
    select(func.max(UnitGridRow.valid_to)).scalar_subquery(),
)


def _horizon(session: Session, token: str) -> date:
    """The first day from which the grid stays as its latest version (read once per token)."""
    with _lock:
        found = _horizons.get(token)
    if found is not None:
        return found
    days = [d for d in session.execute(_LAST_CHANGES).one() if d is not None]
    horizon = max(days, default=date.min)
    with _lock:
        _horizons[token] = horizon
        while len(_horizons) > _CACHE_SIZE:
            _horizons.popitem(last=False)
    return horizon


def get_locator(session: Session, on: date | None = None) -> Locator:
    """The locator for the grid as it stands on ``on`` (cached until the grid changes).

    On a day at or after the grid's horizon nothing starts or ends any more, so that day's grid
    is the latest one: it gets the very locator of ``on=None`` instead of a second build."""
    token = current_token(session)
    if on is not None and on >= _horizon(session, token):
        on = None
    key = (token, on)
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
        _horizons.clear()


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
    """Where a WGS84 point lies on ``on``; None outside every area of the city.

    Pass the city's today for anything happening now: ``on=None`` is the latest grid, which
    includes boundaries that take effect only later."""
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
    """Many WGS84 points at once, on ``on`` (as in ``locate``: the city's today for anything
    happening now); the result's arrays line up with the input. ``cells`` are the H3
    resolutions wanted (each costs about as much as the rest of the location)."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise InvalidInput.one("lon", "same-length", "lon and lat must be 1-D and equally long")
    bad = ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0))
    if bad.any():
        i = int(np.argmax(bad))
        _check_point(float(x[i]), float(y[i]), record=f"point {i}")
    return get_locator(session, on).locate_many(x, y, cells=cells)
