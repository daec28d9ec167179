"""Open cases counted per fine H3 cell (res 10) and district, cached for a few seconds.

The command centre asks again on every pan and zoom, and every viewer asks; the counts behind
them change only when a case is written or a light turns. So one GROUP BY over the open cases
serves every request while the cases table's version (its latest ``updated_at`` and ``id``,
both indexed) is unchanged and the answer is younger than ``ttl`` seconds (lights turn with
time alone). One count per key runs at a time, and kept counts are renewed in the background
before they expire (``Tallies``). Bounding boxes are applied to the cached cells by their
centres.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3
from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
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


# Counts older than this share of ``ttl`` are still served, and one refresh starts beside them.
_REFRESH_AT = 0.5
_log = logging.getLogger(__name__)


@dataclass
class _Kept:
    stamp: float  # the clock's time its lights were counted at (POSIX seconds)
    version: Any
    cells: list[FineCell]


@dataclass
class _Flight:
    stamp: float
    done: threading.Event = field(default_factory=threading.Event)
    version: Any = None
    cells: list[FineCell] | None = None


class Tallies:
    """Counts kept per key, counted by one caller at a time.

    Age is read on the injected clock (the time the lights were counted at), so a test clock
    moved past ``ttl`` counts again and a fixed one, under which no light turns, never expires
    the counts; a clock set back counts again too. Staleness is bounded by ``ttl``
    (``map_cache_seconds``, the time the settings allow counts to be reused while no case
    changes), never stretched: counts younger than half of it are
    served as they are; older ones are still served, and the first reader to see them starts
    one count in the background (its own session), so under steady traffic the counts are
    renewed before they expire and no request pays for the GROUP BY. Counts that did expire,
    or whose version a write changed, are counted again before anyone is answered: the first
    reader counts, the others wait for its result instead of running the same GROUP BY beside
    it (at first render /map/cells and /map/districts ask at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: OrderedDict[Any, _Kept] = OrderedDict()
        self._flights: dict[Any, _Flight] = {}

    def read(
        self,
        key: Any,
        version: Any,
        now: float,
        ttl: float,
        count: Callable[[], list[FineCell]],
        refresh: Callable[[], tuple[Any, list[FineCell]]] | None = None,
    ) -> list[FineCell]:
        """The counts for ``key`` at ``version`` (read by the caller before asking) and ``now``
        (the caller's clock, POSIX seconds; ``count`` turns the lights at it): kept ones
        while they are good, else ``count()`` run by one caller at a time. ``refresh``, run in
        a background thread when kept counts pass half their life, reads the version and the
        counts in a session of its own."""
        while True:
            with self._lock:
                kept = self._kept.get(key)
                if kept is not None and kept.version == version and 0 <= now - kept.stamp <= ttl:
                    self._kept.move_to_end(key)
                    if refresh is not None and now - kept.stamp > ttl * _REFRESH_AT:
                        self._start_refresh(key, now, refresh)
                    return kept.cells
                flight = self._flights.get(key)
                leading = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight(now)
            if leading:
                return self._lead(key, version, flight, count)
            flight.done.wait()
            # Another version (a write between the two reads, or a refresh begun before it)
            # goes round again: kept counts are checked, or this reader counts.
            if flight.cells is not None and flight.version == version:
                return flight.cells

    def _lead(
        self, key: Any, version: Any, flight: _Flight, count: Callable[[], list[FineCell]]
    ) -> list[FineCell]:
        try:
            cells = count()
            flight.version, flight.cells = version, cells
            self._put(key, _Kept(flight.stamp, version, cells))
            return cells
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _start_refresh(
        self, key: Any, now: float, refresh: Callable[[], tuple[Any, list[FineCell]]]
    ) -> None:
        # Called holding the lock: the flight is registered before anyone else can look.
        if key in self._flights:
            return
        flight = self._flights[key] = _Flight(now)

        def run() -> None:
            try:
                version, cells = refresh()
                flight.version, flight.cells = version, cells
                self._put(key, _Kept(flight.stamp, version, cells))
            except SQLAlchemyError:  # the next reader counts in its own request instead
                _log.exception("refreshing the map's counts failed")
            finally:
                with self._lock:
                    del self._flights[key]
                flight.done.set()

        threading.Thread(target=run, name="map-tallies-refresh", daemon=True).start()

    def _put(self, key: Any, kept: _Kept) -> None:
        # One flight per key at a time: no other count of the key can finish before this one.
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > _MAX_ENTRIES:
                self._kept.popitem(last=False)


_tallies = Tallies()


def cases_version(session: Session) -> tuple[Any, Any]:
    """The cases table's version: its latest ``updated_at`` and ``id``. Any write changes it."""
    # Two scalar subqueries: each max is then one step down its index (SQLite optimises a lone
    # min/max only; both in one SELECT scan the whole table).
    latest = select(func.max(C.updated_at)).scalar_subquery()
    top = select(func.max(C.id)).scalar_subquery()
    row = session.execute(select(latest, top)).one()
    return row[0], row[1]


def _in_own_session(
    bind: Any, counter: Callable[[Session], list[FineCell]]
) -> Callable[[], tuple[Any, list[FineCell]]] | None:
    """A refresh for a background thread: only from an engine (a connection is not to be shared
    between threads), reading the version and the counts in one transaction of its own."""
    if not isinstance(bind, Engine):
        return None

    def run() -> tuple[Any, list[FineCell]]:
        with Session(bind) as session, session.begin():
            return cases_version(session), counter(session)

    return run


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
    bind = session.get_bind()
    key = (id(bind), reach_key)
    version = cases_version(session)
    return _tallies.read(
        key,
        version,
        now.timestamp(),
        ttl,
        lambda: _query(session, now, reach),
        _in_own_session(bind, lambda s: _query(s, now, reach)),
    )


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
    bind = session.get_bind()
    key = (id(bind), "reported", days, since.date(), reach_key)
    version = cases_version(session)
    return _tallies.read(
        key,
        version,
        now.timestamp(),
        ttl,
        lambda: _reported(session, since, reach),
        _in_own_session(bind, lambda s: _reported(s, since, reach)),
    )


def in_box(cells: list[FineCell], box: tuple[float, float, float, float] | None) -> list[FineCell]:
    if box is None:
        return cells
    w, s, e, n = box
    return [c for c in cells if w <= c.lng <= e and s <= c.lat <= n]
