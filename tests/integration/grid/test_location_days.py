"""Point location on a day, with a boundary change scheduled ahead (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from onegrid.core.clock import FixedClock, city_today
from onegrid.db.session import Database
from onegrid.grid import queries
from onegrid.grid.domain import Level
from tests.integration.grid.boundary_files import (
    COMMUNITY_SPLIT,
    EQUATOR,
    MID,
    NORTH,
    WEST,
    box,
    build_tiny_city,
    import_level,
    level_file,
)

# Between today's split of 110101001 (116.394) and next month's (116.392): in the west
# community today, in the east one once the change takes effect.
MOVED_POINT = (116.393, 39.906)
WEST_COMMUNITY, EAST_COMMUNITY = "110101001001", "110101001002"


def _today(clock: FixedClock) -> date:
    return city_today(clock, "Asia/Shanghai")


def _move_the_split(db: Database, clock: FixedClock, tmp: Path, on: date) -> None:
    split = COMMUNITY_SPLIT - 0.002
    moved = {
        WEST_COMMUNITY: box(WEST, EQUATOR, split, NORTH),
        EAST_COMMUNITY: box(split, EQUATOR, MID, NORTH),
    }
    with db.unit_of_work() as s:
        report = import_level(
            s,
            clock,
            level_file(tmp, moved, "moved"),
            Level.COMMUNITY,
            parent_from_code_prefix=9,
            valid_from=on,
        )
    assert report.versioned == 2


def _tiny_city(db: Database, clock: FixedClock, tmp: Path) -> tuple[date, date]:
    """The tiny city built; the city's today, and the day a month later."""
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp)
    today = _today(clock)
    return today, today + timedelta(days=30)


def _community(db: Database, on: date | None) -> str | None:
    with db.reader() as s:
        where = queries.locate(s, *MOVED_POINT, on=on)
    assert where is not None
    return where.community


def test_a_change_scheduled_ahead_does_not_move_todays_points(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    today, next_month = _tiny_city(db, clock, tmp_path)
    _move_the_split(db, clock, tmp_path, next_month)

    assert _community(db, today) == WEST_COMMUNITY
    assert _community(db, next_month - timedelta(days=1)) == WEST_COMMUNITY
    assert _community(db, next_month) == EAST_COMMUNITY
    assert _community(db, None) == EAST_COMMUNITY  # the latest grid, for admin views
    with db.reader() as s:
        batch = queries.locate_many(s, [MOVED_POINT[0]], [MOVED_POINT[1]], today)
        assert batch.community.tolist() == [WEST_COMMUNITY]


def test_a_day_after_every_change_shares_the_latest_locator(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    today, next_month = _tiny_city(db, clock, tmp_path)
    with db.reader() as s:
        # Nothing starts or ends after today: today's grid is the latest one, built once.
        assert queries.get_locator(s, today) is queries.get_locator(s)

    _move_the_split(db, clock, tmp_path, next_month)
    with db.reader() as s:
        latest = queries.get_locator(s)
        assert queries.get_locator(s, today) is not latest
        assert queries.get_locator(s, next_month - timedelta(days=1)) is not latest
        assert queries.get_locator(s, next_month) is latest
        assert queries.get_locator(s, next_month + timedelta(days=400)) is latest
        # The grid stays the same between change days: one locator for the whole stretch.
        assert queries.get_locator(s, today) is queries.get_locator(
            s, next_month - timedelta(days=1)
        )


def test_locating_on_a_day_reads_the_grid_token_once(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    today, next_month = _tiny_city(db, clock, tmp_path)
    _move_the_split(db, clock, tmp_path, next_month)
    with db.reader() as s:
        queries.get_locator(s, today)  # built, and the change days read, once
    reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert _community(db, today) == WEST_COMMUNITY
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # The point is located with one look at the grid's change token, nothing more.
    assert len([r for r in reads if "grid_versions" in r]) == 1
    assert not [r for r in reads if "areas" in r or "unit_grids" in r]
