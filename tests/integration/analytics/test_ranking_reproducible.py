"""A past month's ranking is reproduced exactly after a new dated population and after a case is
returned and dispatched to another department once the month has settled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from onegrid.analytics.evaluation import ranking
from onegrid.analytics.lake import Lake
from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import Channel
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid.services import load_populations
from tests.integration.cases.city import (
    CORE,
    CORE_SUB,
    DISPATCHER,
    HOTLINE,
    INSPECTOR,
    SANITATION,
    SHIFT,
    SUBURB_SUB,
)
from tests.integration.cases.helpers import new_case

pytestmark = pytest.mark.postgres
TZ = "Asia/Shanghai"
UNITS = ("department", "subdistrict", "district")


def _dispatched(city: Database, clock: FixedClock, rules: CaseRules) -> int:
    rec = new_case(city, clock, rules, by=HOTLINE, channel=Channel.HOTLINE)
    services.verify_case(city, INSPECTOR, rec.id, clock=clock, rules=rules)
    services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
    return rec.id


def _load(city: Database, clock: FixedClock, *rows: str) -> None:
    with city.unit_of_work() as s:
        load_populations(
            s, ["area_code,valid_from,population", *rows], clock, source="statistics office"
        )


def _rows(lake: Lake, month: str, unit: str = "subdistrict") -> dict[str, dict[str, object]]:
    return {r["unit"]: r for r in ranking(lake.connect(), month, unit, tz=TZ).table.to_pylist()}


def test_a_return_and_re_dispatch_after_the_cutoff_leave_the_month_as_published(
    city: Database, rules: CaseRules, clock: FixedClock, tmp_path: Path
) -> None:
    ids = [_dispatched(city, clock, rules) for _ in range(2)]
    services.accept_case(city, SANITATION, ids[0], clock=clock, rules=rules)
    lake = Lake(tmp_path / "lake")
    lake.refresh(city)
    published = {u: ranking(lake.connect(), "2026-03", u, tz=TZ).table for u in UNITS}
    assert [(r["unit"], r["dispatched"]) for r in published["department"].to_pylist()] == [
        ("sanitation", 2)
    ]

    # March settles on 10 April: on the 20th sanitation sends both back and they go to roads.
    clock.set(datetime(2026, 4, 20, 2, tzinfo=UTC))
    for case_id in ids:
        services.return_case(
            city, SANITATION, case_id, clock=clock, rules=rules, reason="不属本部门"
        )
        services.dispatch_case(
            city, DISPATCHER, case_id, clock=clock, rules=rules, department_code="roads"
        )
    lake.refresh(city)
    con = lake.connect()
    moved = con.execute(
        "SELECT department_code, dispatched_at FROM cases WHERE id = $i", {"i": ids[1]}
    ).fetchall()
    assert moved == [("roads", clock.now())]
    for unit in UNITS:
        assert ranking(con, "2026-03", unit, tz=TZ).table.equals(published[unit]), unit
    # Sanitation holds no case now, yet March's ranking still answers for it.
    alone = ranking(con, "2026-03", "department", tz=TZ, area="sanitation").table
    assert alone.to_pylist() == published["department"].to_pylist()
    # April, settled after the re-dispatches, holds roads responsible for two returned cases.
    (april,) = ranking(con, "2026-04", "department", tz=TZ).table.to_pylist()
    assert (april["unit"], april["dispatched"], april["returned"]) == ("roads", 2, 2)


def test_a_later_population_leaves_a_past_month_and_divides_the_months_it_holds_for(
    city: Database, rules: CaseRules, clock: FixedClock, tmp_path: Path
) -> None:
    _load(city, clock, f"{CORE_SUB},2025-01-01,50000", f"{CORE},2025-01-01,80000")
    _dispatched(city, clock, rules)
    lake = Lake(tmp_path / "lake")
    lake.refresh(city)
    published = ranking(lake.connect(), "2026-03", "subdistrict", tz=TZ).table
    row = _rows(lake, "2026-03")[CORE_SUB]
    assert (row["population"], row["population_valid_from"]) == (50_000, date(2025, 1, 1))
    assert row["requests_per_10k_residents"] == pytest.approx(1 * 10000 / 50_000)
    assert _rows(lake, "2026-03", "district")[CORE]["population"] == 80_000

    # A new estimate from 1 April, loaded in April, and a case that month.
    clock.set(datetime(2026, 4, 14, 2, tzinfo=UTC))
    _load(city, clock, f"{CORE_SUB},2026-04-01,40000", f"{SUBURB_SUB},2026-04-01,10000")
    _dispatched(city, clock, rules)
    assert lake.refresh(city).rows["area_populations"] == 4
    assert ranking(lake.connect(), "2026-03", "subdistrict", tz=TZ).table.equals(published)
    april = _rows(lake, "2026-04")[CORE_SUB]
    assert (april["population"], april["population_valid_from"]) == (40_000, date(2026, 4, 1))
    assert april["requests_per_10k_residents"] == pytest.approx(1 * 10000 / 40_000)


def test_a_corrected_figure_reaches_the_lake(
    city: Database, rules: CaseRules, clock: FixedClock, tmp_path: Path
) -> None:
    """Correcting a stored figure (``--correct``) is the one way to change what a past month
    was divided by: the lake takes the corrected figure at its next refresh."""
    _load(city, clock, f"{CORE_SUB},2025-01-01,50000")
    _dispatched(city, clock, rules)
    lake = Lake(tmp_path / "lake")
    lake.refresh(city)
    assert lake.refresh(city).rows["area_populations"] == 0  # nothing new
    clock.set(datetime(2026, 4, 14, 2, tzinfo=UTC))
    with city.unit_of_work() as s:
        load_populations(
            s,
            ["area_code,valid_from,population", f"{CORE_SUB},2025-01-01,52000"],
            clock,
            source="statistics office",
            correct=True,
        )
    assert lake.refresh(city).rows["area_populations"] == 1
    assert _rows(lake, "2026-03")[CORE_SUB]["population"] == 52_000
