"""The web's server side without a browser: the session cookie, the map's cells and tallies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import h3
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.api.auth import SESSION_COOKIE
from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Channel
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services as grid_services
from onegrid.grid.models import UnitGridRow
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from onegrid.people.queries import principal_of, user_by_username
from onegrid.web import session as web_session
from tests.browser.city import PASSWORD, build_browser_city


def test_the_web_names_the_cookie_the_api_reads() -> None:
    assert web_session.SESSION_COOKIE == SESSION_COOKIE


def _city_with_cases(db: Database, clock: FixedClock, tmp: object, n: int) -> None:
    from pathlib import Path

    with db.unit_of_work() as session:
        build_browser_city(session, clock, Path(str(tmp)), users=("leader",))
    staff = Principal(
        subject_id=1,
        name="test",
        kind=PrincipalKind.USER,
        grants=(Grant(Role.INSPECTOR, Scope.city()),),
    )
    rules = case_rules("Asia/Shanghai")
    with db.unit_of_work() as session:
        for i in range(n):
            _report(session, staff, clock, rules, 116.301 + i * 0.0015)


def _report(session: Session, who: Principal, clock: FixedClock, rules: object, lon: float) -> None:
    services.create_case_in(
        session,
        who,
        NewCase(
            category_code="E0102",
            channel=Channel.INSPECTOR,
            description="垃圾堆放",
            lon=lon,
            lat=39.91,
        ),
        clock=clock,
        rules=rules,  # type: ignore[arg-type]
    )


def test_cells_tallies_and_the_session_cookie(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: object
) -> None:
    _city_with_cases(db, clock, tmp_path, 6)
    fine = client.get("/api/v1/map/cells", params={"resolution": 10}).json()
    assert fine["resolution"] == 10
    assert fine["total"] == 6
    assert sum(f["properties"]["total"] for f in fine["features"]) == 6
    coarse = client.get("/api/v1/map/cells", params={"resolution": 10, "max_cells": 1}).json()
    assert len(coarse["features"]) == 1
    assert coarse["resolution"] < 10
    assert coarse["features"][0]["properties"]["total"] == 6
    west_only = client.get(
        "/api/v1/map/cells", params={"bbox": "116.300,39.900,116.3032,39.920", "resolution": 10}
    ).json()
    assert west_only["total"] == 2

    grids = client.get("/api/v1/map/unit-grids", params={"bbox": "116.300,39.900,116.302,39.902"})
    assert grids.status_code == 200
    codes = [f["properties"]["code"] for f in grids.json()["features"]]
    assert codes and all(c.startswith("110101") for c in codes)
    one = client.get(
        "/api/v1/map/unit-grids", params={"bbox": "116.30,39.90,116.32,39.92", "limit": 1}
    ).json()
    assert len(one["features"]) == 1 and one["truncated"] is True

    # Signing in from the browser sets the HttpOnly cookie the API reads.
    assert client.get("/api/v1/map/districts").status_code == 401
    wrong = client.post("/api/v1/web/session", data={"username": "leader", "password": "nope"})
    assert wrong.status_code == 401
    r = client.post("/api/v1/web/session", data={"username": "leader", "password": PASSWORD})
    assert r.status_code == 200
    assert "httponly" in r.headers["set-cookie"].lower()
    # The test clock is months behind the real one, so the client would drop the cookie as
    # expired: send its value by hand.
    token = r.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    client.cookies.set(SESSION_COOKIE, token)
    tallies = client.get("/api/v1/map/districts").json()
    assert sum(t["open"] for t in tallies) == 6


def test_the_public_map_counts_the_whole_city_for_a_signed_in_citizen(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        build_browser_city(session, clock, tmp_path, users=("citizen",))
        citizen = user_by_username(session, "citizen")
        assert citizen is not None
        own = principal_of(citizen)
    staff = Principal(1, "test", PrincipalKind.USER, (Grant(Role.INSPECTOR, Scope.city()),))
    rules = case_rules("Asia/Shanghai")
    with db.unit_of_work() as session:
        report = NewCase(
            category_code="E0102",
            channel=Channel.WEB_APP,
            description="垃圾堆放",
            lon=116.301,
            lat=39.91,
        )
        services.create_case_in(session, own, report, clock=clock, rules=rules)
        for lon in (116.304, 116.307):
            _report(session, staff, clock, rules, lon)
    token = client.post(
        "/api/v1/auth/token", data={"username": "citizen", "password": PASSWORD}
    ).json()["access_token"]
    signed_in = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/map/cells", params={"resolution": 10}, headers=signed_in).json()
    assert mine["total"] == 1  # the citizen's own reach: their report
    public = {"resolution": 10, "public": "true"}
    city = client.get("/api/v1/map/cells", params=public, headers=signed_in).json()
    assert city["total"] == 3  # the public map: every open case, as a visitor counts them
    assert client.get("/api/v1/map/cells", params=public).json()["total"] == 3


def test_a_bad_bbox_is_a_422_naming_the_field(client: TestClient) -> None:
    r = client.get("/api/v1/map/cells", params={"bbox": "1,2,3"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "bbox"


def test_the_live_feed_checks_its_caller_before_it_streams(client: TestClient) -> None:
    assert client.get("/api/v1/map/feed").status_code == 401
    forged = client.get("/api/v1/map/feed", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
    assert client.get("/api/v1/map/feed", params={"api_key": "og_nope"}).status_code == 401


def _token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_drill_down_heat_my_grids_and_hotspots(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: object
) -> None:
    """One city (its build is the slow part) for the command centre's newer endpoints."""
    with db.unit_of_work() as session:
        build_browser_city(session, clock, Path(str(tmp_path)), users=("inspector", "leader"))
    staff = Principal(1, "test", PrincipalKind.USER, (Grant(Role.INSPECTOR, Scope.city()),))
    rules = case_rules("Asia/Shanghai")
    with db.unit_of_work() as session:
        # Along 39.91: five in the west subdistrict, one in the east.
        for lon in (116.301, 116.303, 116.305, 116.307, 116.309, 116.315):
            _report(session, staff, clock, rules, lon)
    leader = _token(client, "leader")

    # A cell, at any resolution, drills down to exactly its own cases.
    fine = client.get("/api/v1/map/cells", params={"resolution": 10}).json()["features"]
    for res in (10, 8, 6):
        seen = []
        for cell in {h3.cell_to_parent(f["properties"]["cell"], res) for f in fine}:
            r = client.get(f"/api/v1/map/cells/{cell}/cases", headers=leader)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["resolution"] == res and body["total"] == len(body["items"])
            for item in body["items"]:
                at = h3.latlng_to_cell(item["lat"], item["lon"], 10)
                assert h3.cell_to_parent(at, res) == cell
            seen += [i["number"] for i in body["items"]]
        assert len(seen) == len(set(seen)) == 6  # every case in exactly one cell
    far = h3.latlng_to_cell(39.95, 116.40, 8)
    assert client.get(f"/api/v1/map/cells/{far}/cases", headers=leader).json()["total"] == 0
    bad = client.get("/api/v1/map/cells/not-a-cell/cases", headers=leader)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cell"
    assert client.get(f"/api/v1/map/cells/{far}/cases").status_code == 401

    # The inspector's grids: the west subdistrict's, with the five open cases in them.
    inspector = _token(client, "inspector")
    mine = client.get("/api/v1/map/my-grids", headers=inspector).json()
    grids = mine["grids"]
    assert grids and all(g["code"].startswith("110101") for g in grids)
    assert sum(g["open"] for g in grids) == 5
    assert len(mine["cases"]["features"]) == 5 and mine["truncated"] is False
    urgent = client.get("/api/v1/map/my-grids", params={"limit": 2}, headers=inspector).json()
    assert len(urgent["cases"]["features"]) == 2 and urgent["truncated"] is True
    # The shapes come once and are then revalidated: the same ETag answers 304 with no body.
    shapes = client.get("/api/v1/map/my-grids/shapes", headers=inspector)
    assert shapes.status_code == 200, shapes.text
    assert {f["properties"]["code"] for f in shapes.json()["features"]} == {
        g["code"] for g in grids
    }
    etag = shapes.headers["etag"]
    revalidated = client.get(
        "/api/v1/map/my-grids/shapes", headers={**inspector, "If-None-Match": etag}
    )
    assert revalidated.status_code == 304 and revalidated.content == b""
    nobody = client.get("/api/v1/map/my-grids", headers=leader).json()  # patrols no grid
    assert nobody["grids"] == [] and nobody["cases"]["features"] == []
    none = client.get("/api/v1/map/my-grids/shapes", headers=leader)
    assert none.json()["features"] == [] and none.headers["etag"] != etag
    # An answer is reused only while no case is written: a new one counts at once.
    with db.unit_of_work() as session:
        _report(session, staff, clock, rules, 116.302)
    again = client.get("/api/v1/map/my-grids", headers=inspector).json()
    assert sum(g["open"] for g in again["grids"]) == 6
    assert len(again["cases"]["features"]) == 6

    # Hotspots come from the analytics lake (none built here) and need analytics.read.
    r = client.get("/api/v1/map/hotspots", params={"category": "e0102"}, headers=leader)
    assert r.status_code == 200
    assert r.json()["category"] == "E0102" and r.json()["features"] == []
    denied = client.get("/api/v1/map/hotspots", params={"category": "E0102"}, headers=inspector)
    assert denied.status_code == 403

    # The heat of the period: reported cases as weighted points; older ones drop out.
    heat = client.get("/api/v1/map/heat", params={"days": 7, "resolution": 9}).json()
    assert heat["total"] == 7 and heat["days"] == 7
    assert all(f["geometry"]["type"] == "Point" for f in heat["features"])
    clock.advance(timedelta(days=8))
    assert client.get("/api/v1/map/heat", params={"days": 7}).json()["total"] == 0
    assert client.get("/api/v1/map/heat", params={"days": 0}).status_code == 422

    # Eight days on, every step is late: the drill-down and the grids say red, as the case does.
    leader, inspector = _token(client, "leader"), _token(client, "inspector")  # signed in again
    cell = h3.cell_to_parent(fine[0]["properties"]["cell"], 6)
    items = client.get(f"/api/v1/map/cells/{cell}/cases", headers=leader).json()["items"]
    for item in items:
        one = client.get(f"/api/v1/cases/{item['id']}", headers=leader).json()
        assert item["light"] == one["clock"]["light"] == "red"
    late = client.get("/api/v1/map/my-grids", headers=inspector).json()["grids"]
    assert sum(g["red"] for g in late) == 6

    # At 04:00 in Beijing the UTC date is still yesterday: a grid assigned from the city's
    # today is the inspector's already.
    clock.set(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # 11 March, 04:00 in Beijing
    with db.unit_of_work() as session:
        east = session.scalars(
            select(UnitGridRow.code).where(~UnitGridRow.code.startswith("110101")).limit(1)
        ).one()
        who = user_by_username(session, "inspector")
        assert who is not None
        grid_services.assign_inspector(
            session, clock, user_id=who.id, unit_grid_code=east, valid_from=date(2026, 3, 11)
        )
    inspector = _token(client, "inspector")
    assert east in {
        g["code"] for g in client.get("/api/v1/map/my-grids", headers=inspector).json()["grids"]
    }
    shown = client.get("/api/v1/map/my-grids/shapes", headers=inspector).json()["features"]
    assert east in {f["properties"]["code"] for f in shown}


def test_admin_reads_and_checks_the_rule_files(
    client: TestClient, db: Database, clock: FixedClock, tmp_path: object
) -> None:
    with db.unit_of_work() as session:
        build_browser_city(session, clock, Path(str(tmp_path)), users=("admin", "leader"))
    admin = _token(client, "admin")
    limits = client.get("/api/v1/admin/time-limits", headers=admin).json()
    assert limits["in_force"] == "2025.01"
    doc = limits["document"]
    ok = client.post("/api/v1/admin/time-limits/check", json=doc, headers=admin)
    assert ok.status_code == 200 and ok.json()["versions"][0]["version"] == "2025.01"
    doc["versions"][0]["defaults"]["handle"] = "3 fortnights"
    bad = client.post("/api/v1/admin/time-limits/check", json=doc, headers=admin)
    assert bad.status_code == 422
    assert any("handle" in p["field"] for p in bad.json()["errors"]), bad.json()
    shape = client.post("/api/v1/admin/time-limits/check", json={"versions": 3}, headers=admin)
    assert shape.status_code == 422

    cal = client.get("/api/v1/admin/calendar", headers=admin).json()
    y2026 = next(y for y in cal["years"] if y["year"] == 2026)
    assert 240 <= y2026["working_days"] <= 252 and cal["day_hours"] == 7.5
    proposal = {"weekend": ["saturday", "funday"], "working_periods": [["09:00", "nine"]]}
    bad_cal = client.post("/api/v1/admin/calendar/check", json=proposal, headers=admin)
    assert bad_cal.status_code == 422
    assert {p["field"] for p in bad_cal.json()["errors"]} >= {"weekend", "working_periods[0]"}

    leader = _token(client, "leader")
    assert client.get("/api/v1/admin/calendar", headers=leader).status_code == 403
    assert client.get("/api/v1/admin/time-limits").status_code == 401
