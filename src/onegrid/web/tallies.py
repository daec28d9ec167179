"""Open cases counted per fine H3 cell (res 10) and district, cached for a few seconds.

The command centre asks again on every pan and zoom, and every viewer asks; the counts behind
them change only when a case is written or a light turns. So one GROUP BY over the open cases
serves every request while the cases table's version (its latest ``updated_at`` and ``id``,
both indexed) is unchanged and the answer is younger than ``ttl`` seconds (lights turn with
time alone). Bounding boxes are applied to the cached cells by their centres.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import h3
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from onegrid.cases.domain.lights import Light
from onegrid.cases.domain.states import OPEN_STATUSES, Status
from onegrid.cases.queries import light_clause
from onegrid.cases.records import CASES

C = CASES.c
OPEN = sorted(s.value for s in OPEN_STATUSES)
_MAX_ENTRIES = 64


@dataclass(frozen=True)
class FineCell:
    cell: str  # H3 res 10
    district: str | None
    total: int
    red: int
    yellow: int
    lat: float
    lng: float


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Any, tuple[float, Any, list[FineCell]]] = OrderedDict()

    def get(self, key: Any, version: Any, ttl: float) -> list[FineCell] | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[1] != version or time.monotonic() - hit[0] > ttl:
                return None
            self._entries.move_to_end(key)
            return hit[2]

    def put(self, key: Any, version: Any, cells: list[FineCell]) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), version, cells)
            self._entries.move_to_end(key)
            while len(self._entries) > _MAX_ENTRIES:
                self._entries.popitem(last=False)


_cache = _Cache()


def _version(session: Session) -> tuple[Any, Any]:
    # Two scalar subqueries: each max is then one step down its index (SQLite optimises a lone
    # min/max only; both in one SELECT scan the whole table).
    latest = select(func.max(C.updated_at)).scalar_subquery()
    top = select(func.max(C.id)).scalar_subquery()
    row = session.execute(select(latest, top)).one()
    return row[0], row[1]


def _yellow(now: datetime) -> ColumnElement[bool]:
    """``light_clause(Light.YELLOW)`` on the row's own columns: that one looks ids up through
    the deadline index (right for a list that wants a few); a count reads every open case
    anyway, and this way all it reads is in ``ix_cases_open_cells``."""
    running = and_(C.step_frozen_light.is_(None), C.step_deadline >= now, C.step_warn_at < now)
    held = and_(C.status == Status.ON_HOLD.value, C.step_frozen_light == Light.YELLOW.value)
    return or_(running, held)


def _order(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""


def _query(session: Session, now: datetime, reach: ColumnElement[bool] | None) -> list[FineCell]:
    red = func.sum(case((light_clause(Light.RED, now), 1), else_=0))
    yellow = func.sum(case((_yellow(now), 1), else_=0))
    # Grouped by status first, the order of the covering index ix_cases_open_cells: SQLite then
    # reads that index alone, status by status, and needs no sort. Grouped by cell, or with
    # "h3_10 IS NOT NULL", its planner walked the h3_10 index and read every row of the table
    # (0.45 s against 0.06 s over 100,000 cases). The statuses are added up here.
    stmt = (
        select(C.h3_10, C.district_code, func.count(), red, yellow)
        .where(C.status.in_(OPEN))
        .group_by(C.status, C.h3_10, C.district_code)
    )
    if reach is not None:
        stmt = stmt.where(reach)
    counts: dict[tuple[str, str | None], list[int]] = {}
    for cell, district, total, r, y in session.execute(stmt):
        if cell is None:
            continue
        tally = counts.setdefault((cell, district), [0, 0, 0])
        tally[0] += int(total)
        tally[1] += int(r or 0)
        tally[2] += int(y or 0)
    out = []
    for (cell, district), (total, r, y) in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        lat, lng = h3.cell_to_latlng(cell)
        out.append(FineCell(cell, district, total, r, y, lat, lng))
    return out


def open_cells(
    session: Session,
    now: datetime,
    *,
    reach: ColumnElement[bool] | None,
    reach_key: Any,
    ttl: float,
) -> list[FineCell]:
    """Every fine cell with open cases the caller may count (``reach``: None = all)."""
    key = (id(session.get_bind()), reach_key)
    version = _version(session)
    cells = _cache.get(key, version, ttl)
    if cells is None:
        cells = _query(session, now, reach)
        _cache.put(key, version, cells)
    return cells


def _reported(
    session: Session, since: datetime, reach: ColumnElement[bool] | None
) -> list[FineCell]:
    # Grouped by an expression, not the bare column: on the bare h3_10 SQLite walks its whole
    # index (every case ever reported) to save a sort, 7 s at 1 M cases instead of 0.5 s down
    # the created_at index. No cell comes back as ''.
    cell_of = func.coalesce(C.h3_10, "")
    stmt = (
        select(cell_of, C.district_code, func.count())
        .where(C.created_at >= since)
        .group_by(cell_of, C.district_code)
    )
    if reach is not None:
        stmt = stmt.where(reach)
    out = []
    for cell, district, total in session.execute(stmt):
        if not cell:
            continue
        lat, lng = h3.cell_to_latlng(cell)
        out.append(FineCell(cell, district, int(total), 0, 0, lat, lng))
    return out


def reported_cells(
    session: Session,
    now: datetime,
    days: int,
    *,
    reach: ColumnElement[bool] | None,
    reach_key: Any,
    ttl: float,
) -> list[FineCell]:
    """Every fine cell with cases reported in the last ``days`` days (the heat layer's period),
    kept like the open counts: a new case changes the version, so the next ask counts again."""
    since = now - timedelta(days=days)
    # The period's start is in the key by the day: an injected clock that jumps counts again.
    key = (id(session.get_bind()), "reported", days, since.date(), reach_key)
    version = _version(session)
    cells = _cache.get(key, version, ttl)
    if cells is None:
        cells = _reported(session, since, reach)
        _cache.put(key, version, cells)
    return cells


def in_box(cells: list[FineCell], box: tuple[float, float, float, float] | None) -> list[FineCell]:
    if box is None:
        return cells
    w, s, e, n = box
    return [c for c in cells if w <= c.lng <= e and s <= c.lat <= n]
