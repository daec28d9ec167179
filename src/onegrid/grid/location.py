"""Point location through the database: which unit grid, community, subdistrict and district.

A ``Locator`` (``grid.locator``) is built from the areas and unit grids valid on a day and cached,
keyed by the newest grid change token and the day: any import or generation writes a new token,
so a stale locator is never used, and an unchanged grid is never rebuilt.

An import may schedule a boundary change for a future date, so "the latest grid" and "the grid
today" differ until that date. Whatever locates something happening now (a case reported, a
device registered, an alert raised) passes the city's today as ``on``. ``on=None`` means the
latest version of every area that is not retired, including one that takes effect later: it
is for admin views of the newest boundaries, never for placing a report.

The grid only changes on the days a version starts or ends, so a locator is built per stretch
between change days, not per day; from the last change day on, every day has the latest grid
and shares the ``on=None`` locator (the usual case: today, with no change scheduled).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from datetime import date

import numpy as np
import shapely
from numpy.typing import ArrayLike
from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.orm import Session

from onegrid.core.errors import InvalidInput
from onegrid.grid.domain import Level, Location
from onegrid.grid.locator import OUTPUT_RES, LocatedBatch, Locator, Shape
from onegrid.grid.models import AreaRow, UnitGridRow
from onegrid.grid.storage import current_token, valid_on_clause

_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, date | None], Locator] = OrderedDict()
_changes: OrderedDict[str, tuple[date, ...]] = OrderedDict()
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


# Every day on which a version of an area or unit grid starts or ends: between two of them
# the grid stays the same.
_CHANGE_DAYS: CompoundSelect[tuple[date]] = union(
    select(AreaRow.valid_from),
    select(AreaRow.valid_to).where(AreaRow.valid_to.is_not(None)),
    select(UnitGridRow.valid_from),
    select(UnitGridRow.valid_to).where(UnitGridRow.valid_to.is_not(None)),
)


def _change_days(session: Session, token: str) -> tuple[date, ...]:
    with _lock:
        found = _changes.get(token)
    if found is not None:
        return found
    days = tuple(sorted(session.scalars(select(_CHANGE_DAYS.subquery().c[0])).all()))
    with _lock:
        _changes[token] = days
        while len(_changes) > _CACHE_SIZE:
            _changes.popitem(last=False)
    return days


def change_days(session: Session) -> tuple[date, ...]:
    """The days on which a version of an area or unit grid starts or ends, oldest first (read
    once per grid change token)."""
    return _change_days(session, current_token(session))


def stretch_start(days: Sequence[date], on: date) -> date | None:
    """The last of the change ``days`` on or before ``on``, since the grid does not change
    between change days; None (the latest grid) from the last change day on. Days with the
    same grid share one locator."""
    if not days or on >= days[-1]:
        return None
    i = bisect.bisect_right(days, on)
    return days[i - 1] if i else date.min


def get_locator(session: Session, on: date | None = None) -> Locator:
    """The locator for the grid as it stands on ``on`` (cached until the grid changes).

    Days between two change days share a locator, and days from the last one on share the
    ``on=None`` locator: asking for today builds nothing extra when no change is scheduled."""
    token = current_token(session)  # one read of it per request: a create locates once
    if on is not None:
        on = stretch_start(_change_days(session, token), on)
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
        _changes.clear()


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
