from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import func, select

from onegrid.assets.models import ComponentRow
from onegrid.cases.domain.states import Status
from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock, city_today
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.demo import build_demo_city, is_empty
from onegrid.demo.live import load_knowledge_base, load_live_cases
from onegrid.grid import queries as grid_queries
from onegrid.people import credentials

DISPATCHED_OR_LATER = (
    Status.DISPATCHED,
    Status.HANDLING,
    Status.ON_HOLD,
    Status.TO_CHECK,
    Status.TO_CLOSE,
    Status.CLOSED,
)


def test_demo_city_is_complete_and_usable(db: Database, clock: FixedClock) -> None:
    assert is_empty(db)
    report = build_demo_city(db, seed=11, clock=clock, components_per_grid=1)
    assert not is_empty(db)
    assert report.counts["districts"] == 5
    assert report.counts["communities"] == 60
    assert report.counts["unit grids"] > 1000
    assert report.counts["components"] > 500
    text = report.render()
    assert report.password in text and "admin" in text and "open311-demo" in text

    with db.reader() as session:
        stats = grid_queries.grid_stats(session)
        assert stats is not None
        # Every community has unit grids, and every inspector grid belongs to someone.
        for community in grid_queries.list_areas(session, level="community"):
            assert grid_queries.list_unit_grids(session, community=community.code, limit=1)
        written = session.scalar(select(func.count()).select_from(ComponentRow))
        assert written == report.counts["components"]
        # Routing: a subdistrict's own work goes to its office; a street lamp to the roads office.
        centre = grid_queries.list_areas(session, level="community")[0]
        lon = (centre.bbox[0] + centre.bbox[2]) / 2
        lat = (centre.bbox[1] + centre.bbox[3]) / 2
        batch = grid_queries.locate_many(session, np.array([lon]), np.array([lat]))
        location = batch.location(0)
        assert location is not None and location.subdistrict
        today = city_today(clock, Settings().timezone)
        vendor = grid_queries.responsible_department(session, "E0501", location, on=today)
        assert vendor is not None and vendor.department_code == f"{location.subdistrict}JD"
        lamp = grid_queries.responsible_department(session, "C0115", location, on=today)
        assert lamp is not None and lamp.department_code == "SZJ"
        enquiry = grid_queries.responsible_department(session, "E0901", location, on=today)
        assert enquiry is not None and enquiry.kind == "territorial"
        assert grid_queries.inspectors_for(session, location.unit_grid or "")

    # A fresh demo has work in progress at many steps, some of it late, and hotline answers.
    live = load_live_cases(db, 11, clock)
    assert live is not None and live.ok and live.accepted > 50
    open_steps = set(live.by_status) - {"closed", "cancelled", "merged"}
    assert len(open_steps) >= 4, live.by_status
    assert sum(live.by_status[s] for s in open_steps) > 50
    assert load_live_cases(db, 11, clock) is None  # once per database
    with db.reader() as session:  # a dispatched case names who is to accept it
        unowned = session.scalars(
            select(CaseRow.id).where(
                CaseRow.status.in_([s.value for s in DISPATCHED_OR_LATER]),
                CaseRow.department_code.is_(None),
            )
        ).all()
    assert unowned == []
    assert load_knowledge_base(db, clock) > 0

    issued = credentials.sign_in(
        db,
        "admin",
        report.password,
        clock,
        secret_key=Settings().secret_key,
        ttl=timedelta(hours=1),
    )
    assert issued.access_token
