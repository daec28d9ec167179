"""A published month's ranking does not move when a fact is recorded after its settle cutoff."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from onegrid.analytics.evaluation import ranking
from onegrid.analytics.lake import Lake
from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import Channel
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.cases.city import DISPATCHER, HOTLINE, INSPECTOR, SANITATION, SHIFT
from tests.integration.cases.helpers import new_case

pytestmark = pytest.mark.postgres


def test_a_return_after_the_cutoff_leaves_the_month_as_published(
    city: Database, rules: CaseRules, clock: FixedClock, tmp_path: Path
) -> None:
    ids = []
    for _ in range(2):
        rec = new_case(city, clock, rules, by=HOTLINE, channel=Channel.HOTLINE)
        services.verify_case(city, INSPECTOR, rec.id, clock=clock, rules=rules)
        services.file_case(city, SHIFT, rec.id, clock=clock, rules=rules)
        services.dispatch_case(city, DISPATCHER, rec.id, clock=clock, rules=rules)
        ids.append(rec.id)
    services.accept_case(city, SANITATION, ids[0], clock=clock, rules=rules)
    # March settles on 10 April (settle_days 10): a return on the 5th still counts for March.
    clock.set(datetime(2026, 4, 5, 2, tzinfo=UTC))
    services.return_case(city, SANITATION, ids[1], clock=clock, rules=rules, reason="不属本部门")
    lake = Lake(tmp_path / "lake")
    lake.refresh(city)
    published = ranking(lake.connect(), "2026-03", "subdistrict", tz="Asia/Shanghai").table
    (row,) = published.to_pylist()
    assert (row["dispatched"], row["returned"]) == (2, 1)

    # A return on the 20th, after the cutoff, is in the lake but not in March's ranking.
    clock.set(datetime(2026, 4, 20, 2, tzinfo=UTC))
    services.return_case(city, SANITATION, ids[0], clock=clock, rules=rules, reason="不属本部门")
    lake.refresh(city)
    con = lake.connect()
    assert con.execute("SELECT returns FROM cases WHERE id = $i", {"i": ids[0]}).fetchall() == [
        (1,)
    ]
    assert ranking(con, "2026-03", "subdistrict", tz="Asia/Shanghai").table.equals(published)
