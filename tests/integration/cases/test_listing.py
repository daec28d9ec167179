"""Listing with every filter, checked against the same question asked of each case in Python.

The SQL filters (the light as deadline comparisons, overdue, areas at any level, date ranges)
are compared with what ``CaseRecord.reading`` and the record's own fields say, over a set of
cases spread in time, status, place, category, channel and department, at several instants.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.lights import Light
from onegrid.cases.domain.states import Channel
from onegrid.cases.queries import CaseFilter, list_cases
from onegrid.cases.records import CaseRecord
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from tests.integration.cases.city import (
    CORE,
    CORE_SUB,
    DISPATCHER,
    HOTLINE,
    IN_SUBURB,
    SHIFT,
    SUBURB,
    SUBURB_SUB,
)
from tests.integration.cases.helpers import new_case, to_handling

pytestmark = pytest.mark.postgres


def _spread(db: Database, clock: FixedClock, rules: CaseRules) -> None:
    """Nine cases over a working day: waiting, dispatched to two departments, held, cancelled,
    in both districts, of two categories and two channels."""
    new_case(db, clock, rules)  # 09:00 core, to_file
    to_handling(db, clock, rules)  # 09:00 core, sanitation, handle step
    clock.advance(timedelta(minutes=40))
    new_case(db, clock, rules, where=IN_SUBURB, category="E0501", description="占道经营")
    held = to_handling(db, clock, rules)
    services.hold_case(db, SHIFT, held.id, clock=clock, rules=rules, reason="等待施工")
    clock.advance(timedelta(minutes=40))
    roads = new_case(db, clock, rules)
    services.file_case(db, SHIFT, roads.id, clock=clock, rules=rules)
    services.dispatch_case(
        db, DISPATCHER, roads.id, clock=clock, rules=rules, department_code="roads"
    )
    new_case(db, clock, rules, by=HOTLINE, channel=Channel.HOTLINE, description="井盖缺失")
    clock.advance(timedelta(minutes=40))
    gone = new_case(db, clock, rules)
    services.cancel_case(db, SHIFT, gone.id, clock=clock, rules=rules, reason="重复上报")
    new_case(db, clock, rules, where=IN_SUBURB)
    to_handling(db, clock, rules, where=IN_SUBURB)


def _all(db: Database, now: datetime) -> list[CaseRecord]:
    with db.reader() as s:
        return list_cases(s, CaseFilter(), now=now, limit=200).items


def _ids(db: Database, f: CaseFilter, now: datetime, **kw: object) -> list[int]:
    with db.reader() as s:
        return [r.id for r in list_cases(s, f, now=now, limit=200, **kw).items]  # type: ignore[arg-type]


def _expect(cases: list[CaseRecord], keep: Callable[[CaseRecord], bool]) -> list[int]:
    return [r.id for r in cases if keep(r)]


def test_lights_and_overdue_match_each_cases_own_clock(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    _spread(city, clock, rules)
    start = clock.now()
    seen: set[Light] = set()
    # Through the day and past the evening: each instant the SQL light must agree with the
    # clock reading of every case, held ones keeping the light they had when held.
    for later in (0, 50, 100, 200, 60 * 8, 60 * 30):
        now = start + timedelta(minutes=later)
        cases = _all(city, now)
        assert len(cases) == 9
        for light in Light:

            def lit(r: CaseRecord, light: Light = light, now: datetime = now) -> bool:
                reading = r.reading(rules.calendar, now)
                return reading is not None and reading.light is light

            expected = _expect(cases, lit)
            seen |= {light} if expected else set()
            assert _ids(city, CaseFilter(light=light), now) == expected, (later, light)

        def late(r: CaseRecord, now: datetime = now) -> bool:
            reading = r.reading(rules.calendar, now)
            return r.overdue_steps > 0 or (reading is not None and reading.light is Light.RED)

        assert _ids(city, CaseFilter(overdue=True), now) == _expect(cases, late)
        assert _ids(city, CaseFilter(overdue=False), now) == _expect(cases, lambda r: not late(r))
    assert seen == set(Light)  # the instants did reach every colour


def test_every_field_filter_and_sort(city: Database, clock: FixedClock, rules: CaseRules) -> None:
    first = clock.now()
    _spread(city, clock, rules)
    now = clock.now()
    cases = _all(city, now)
    checks: list[tuple[CaseFilter, Callable[[CaseRecord], bool]]] = [
        (CaseFilter(status=("handling",)), lambda r: r.status == "handling"),
        (
            CaseFilter(status=("to_file", "on_hold")),
            lambda r: r.status in ("to_file", "on_hold"),
        ),
        (CaseFilter(category="E05"), lambda r: r.category_code.startswith("E05")),
        (CaseFilter(category="e0102"), lambda r: r.category_code == "E0102"),
        (CaseFilter(channel=("hotline",)), lambda r: r.channel == "hotline"),
        (CaseFilter(area=CORE), lambda r: r.district_code == CORE),
        (CaseFilter(area=SUBURB_SUB), lambda r: r.subdistrict_code == SUBURB_SUB),
        (CaseFilter(area=CORE_SUB + "001"), lambda r: r.community_code == CORE_SUB + "001"),
        (CaseFilter(department="roads"), lambda r: r.department_code == "roads"),
        (CaseFilter(department="sanitation"), lambda r: r.department_code == "sanitation"),
        (CaseFilter(urgency=("normal",)), lambda r: r.urgency == "normal"),
        (CaseFilter(text="井盖"), lambda r: "井盖" in r.description),
        (CaseFilter(text="50%_"), lambda r: False),  # wildcards are literal
        (
            CaseFilter(created_from=first + timedelta(minutes=40)),
            lambda r: r.created_at >= first + timedelta(minutes=40),
        ),
        (
            CaseFilter(created_to=first + timedelta(minutes=80)),
            lambda r: r.created_at < first + timedelta(minutes=80),
        ),
        (CaseFilter(closed_from=first), lambda r: r.closed_at is not None),
        (
            CaseFilter(status=("handling",), area=SUBURB, department="sanitation"),
            lambda r: r.status == "handling" and r.district_code == SUBURB,
        ),
    ]
    for f, keep in checks:
        expected = _expect(cases, keep)
        assert _ids(city, f, now) == expected, f
    assert any(_expect(cases, keep) for _, keep in checks[:3])
    units = {r.unit_grid_code for r in cases if r.unit_grid_code}
    assert units
    for unit in units:
        assert _ids(city, CaseFilter(area=unit), now) == _expect(
            cases, lambda r, u=unit: r.unit_grid_code == u
        )
    # Sorting: by number both ways, by updated_at; ties broken by id.
    by_number = sorted(cases, key=lambda r: (r.number, r.id))
    assert _ids(city, CaseFilter(), now, sort="number") == [r.id for r in by_number]
    assert _ids(city, CaseFilter(), now, sort="-number") == [r.id for r in reversed(by_number)]
    by_update = sorted(cases, key=lambda r: (r.updated_at, r.id))
    assert _ids(city, CaseFilter(), now, sort="updated_at") == [r.id for r in by_update]
    with pytest.raises(InvalidInput, match="sort by one of"):
        _ids(city, CaseFilter(), now, sort="description")
    for sort in ("created_at", "-created_at", "updated_at", "-number"):
        _pages_cover_the_list_once(city, now, sort)


def _pages_cover_the_list_once(db: Database, now: datetime, sort: str) -> None:
    with db.reader() as s:
        whole = [r.id for r in list_cases(s, CaseFilter(), now=now, sort=sort, limit=200).items]
        paged: list[int] = []
        cursor = None
        while True:
            page = list_cases(s, CaseFilter(), now=now, sort=sort, limit=2, cursor=cursor)
            paged += [r.id for r in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert cursor is not None
        other = "number" if "created" in sort else "created_at"
        with pytest.raises(InvalidInput, match="cursor"):
            list_cases(s, CaseFilter(), now=now, sort=other, cursor=cursor)
    assert paged == whole and len(whole) == 9, sort
