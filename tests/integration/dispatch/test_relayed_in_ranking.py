"""The monthly ranking tells direct dispatch (直派) from the district government's fallback (兜底)
by the rule the desk's route recorded, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.analytics.evaluation import ranking
from onegrid.analytics.lake import Lake
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.hotline.services import DeskRules, record_call
from tests.integration.cases.city import IN_SUBURB
from tests.integration.dispatch.city import DESK, SUBURB_GOVERNMENT, call_draft

pytestmark = pytest.mark.postgres


def test_a_fallback_routed_call_counts_as_relayed_for_the_district_government(
    city: Database, clock: FixedClock, desk: DeskRules, tmp_path: Path
) -> None:
    direct = record_call(city, DESK, call_draft(), clock=clock, rules=desk)
    # Street order in the suburb: no duty rule there, so the district government takes it.
    relayed = record_call(
        city,
        DESK,
        call_draft(
            text="路口有流动摊贩占道",
            category_code="E0501",
            caller_phone="13900002222",
            lon=IN_SUBURB[0],
            lat=IN_SUBURB[1],
        ),
        clock=clock,
        rules=desk,
    )
    assert direct.dispatched and relayed.dispatched
    assert relayed.route is not None and relayed.route.rule == "district_fallback"
    lake = Lake(tmp_path / "lake")
    lake.refresh(city)
    rows = {
        r["unit"]: r
        for r in ranking(
            lake.connect(), "2026-03", "department", tz="Asia/Shanghai"
        ).table.to_pylist()
    }
    counts = ("dispatched", "direct", "relayed", "returned", "direct_share")
    assert [rows["sanitation"][k] for k in counts] == [1, 1, 0, 0, 1.0]
    assert [rows[SUBURB_GOVERNMENT][k] for k in counts] == [1, 0, 1, 0, 0.0]
