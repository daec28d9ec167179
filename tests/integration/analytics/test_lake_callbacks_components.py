"""Callbacks and components in the lake: exported with their values, a change moved once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from onegrid.analytics.lake import Lake
from onegrid.assets import services as assets
from onegrid.assets.domain import ComponentDraft, ComponentState
from onegrid.cases.config import CaseRules
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.hotline.domain import Satisfaction
from onegrid.dispatch.hotline.services import record_callback
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.integration.cases.city import IN_CORE

pytestmark = pytest.mark.postgres
OPERATOR = Principal(
    3, "operator", PrincipalKind.USER, (Grant(Role.HOTLINE_OPERATOR, Scope.city()),)
)


def test_callbacks_and_components_reach_the_lake_and_a_change_moves_once(
    city: Database, rules: CaseRules, clock: FixedClock, tmp_path: Path
) -> None:
    called = clock.now() - timedelta(days=3)
    case = HistoricalCase(
        "E0102",
        called,
        *IN_CORE,
        "垃圾堆放",
        external_ref="cb:1",
        department_code="sanitation",
        closed_at=called + timedelta(hours=6),
    )
    assert load_historical(city, [case], rules=rules).accepted == 1
    with city.reader() as s:
        case_id = s.execute(select(CaseRow.id).where(CaseRow.external_ref == "cb:1")).scalar_one()
    record_callback(
        city,
        OPERATOR,
        case_id,
        resolved=True,
        satisfaction=Satisfaction.BASICALLY_SATISFIED,
        clock=clock,
        rules=rules,
    )
    cover = ComponentDraft(
        class_code="C0101", name="上水井盖", lon=IN_CORE[0], lat=IN_CORE[1], owner="roads"
    )
    with city.unit_of_work() as s:
        component_id = assets.create_component(s, cover, clock).id

    lake = Lake(tmp_path / "lake")
    first = lake.refresh(city)
    assert (first.rows["callbacks"], first.rows["components"]) == (1, 1)
    con = lake.connect()
    assert con.execute("SELECT case_id, resolved, satisfaction FROM callbacks").fetchall() == [
        (case_id, True, "basically_satisfied")
    ]
    assert con.execute("SELECT id, class_code, owner, state FROM components").fetchall() == [
        (component_id, "C0101", "roads", "normal")
    ]

    clock.advance(timedelta(hours=1))
    with city.unit_of_work() as s:
        assets.change_component_state(s, component_id, ComponentState.DAMAGED, clock)
    second = lake.refresh(city)
    assert (second.rows["callbacks"], second.rows["components"]) == (0, 1)
    assert lake.connect().execute("SELECT id, state FROM components").fetchall() == [
        (component_id, "damaged")
    ]
