"""The map's kept counts through the API: a write is seen by the next reader, at once."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from onegrid.api.v1.map import CellCollection
from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Channel
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from onegrid.web.tallies import cases_version
from tests.browser.city import PASSWORD, build_browser_city

STAFF = Principal(1, "test", PrincipalKind.USER, (Grant(Role.INSPECTOR, Scope.city()),))


def _report(db: Database, clock: FixedClock, lon: float) -> None:
    with db.unit_of_work() as session:
        services.create_case_in(
            session,
            STAFF,
            NewCase(
                category_code="E0102",
                channel=Channel.INSPECTOR,
                description="垃圾堆放",
                lon=lon,
                lat=39.91,
            ),
            clock=clock,
            rules=case_rules("Asia/Shanghai"),
        )


def _open(client: TestClient, headers: dict[str, str]) -> tuple[int, int]:
    r = client.get("/api/v1/map/cells", params={"resolution": 10})
    assert r.headers["content-type"] == "application/json"
    cells = CellCollection.model_validate_json(r.content)  # written by hand: still the model's
    assert sum(f.properties.total for f in cells.features) == cells.total
    ring = cells.features[0].geometry["coordinates"][0]
    assert len(ring) == 7 and ring[0] == ring[-1]
    districts = client.get("/api/v1/map/districts", headers=headers)
    assert districts.status_code == 200, districts.text
    return cells.total, sum(t["open"] for t in districts.json())


def test_a_reader_after_a_write_sees_it_though_the_counts_are_kept(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        build_browser_city(session, clock, tmp_path, users=("leader",))
    for lon in (116.301, 116.303, 116.315):
        _report(db, clock, lon)
    token = client.post("/api/v1/auth/token", data={"username": "leader", "password": PASSWORD})
    leader = {"Authorization": f"Bearer {token.json()['access_token']}"}

    assert _open(client, leader) == (3, 3)
    assert _open(client, leader) == (3, 3)  # kept: well within map_cache_seconds
    with db.unit_of_work() as session:
        before = cases_version(session)
    _report(db, clock, 116.305)
    with db.unit_of_work() as session:
        assert cases_version(session) != before  # the write moved the version
    assert _open(client, leader) == (4, 4)
