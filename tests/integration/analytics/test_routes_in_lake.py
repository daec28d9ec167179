"""Case routes reach the lake, and a contact recorded after the route was exported moves too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from onegrid.analytics.lake import Lake
from onegrid.cases.config import CaseRules
from onegrid.cases.importing import load_historical
from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.routing.domain import Route, RouteRule
from onegrid.dispatch.routing.services import record_contact, store_route
from tests.integration.analytics.test_lake import T0, _cases
from tests.integration.cases.city import SANITATION

pytestmark = pytest.mark.postgres


def test_routes_and_their_contact_times_are_exported_incrementally(
    city: Database, rules: CaseRules, clock: FixedClock, tmp_path: Path
) -> None:
    load_historical(city, _cases(3, T0, "r"), rules=rules)
    with city.unit_of_work() as s:
        cases = s.execute(
            select(CaseRow.id, CaseRow.department_code, CaseRow.dispatched_at).order_by(CaseRow.id)
        ).all()
        ids = [c.id for c in cases]
        for case in cases:
            # As a direct dispatch stores it: the case's unit, stamped with its dispatch time.
            route = Route(case.department_code, RouteRule.DUTY_OWNER, "duty rule")
            row = store_route(s, case.id, route, route, "user:1", clock.now())
            row.dispatched_at = case.dispatched_at
            row.response_due_at = case.dispatched_at + timedelta(hours=24)
    lake = Lake(tmp_path / "lake")
    first = lake.refresh(city)
    assert first.rows["case_routes"] == 3
    con = lake.connect()
    assert con.execute("SELECT count(contacted_at) FROM case_routes").fetchone() == (0,)

    clock.advance(timedelta(hours=2))
    record_contact(city, SANITATION, ids[0], clock=clock)
    second = lake.refresh(city)
    assert second.rows["case_routes"] == 1
    con = lake.connect()
    rows = con.execute("SELECT case_id, contacted_at FROM case_routes ORDER BY case_id").fetchall()
    assert [r[0] for r in rows] == list(ids)  # one row per route, the newest state
    assert rows[0][1] == clock.now() and rows[1][1] is None
    assert not lake.refresh(city).changed
