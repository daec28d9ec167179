"""The web's server side without a browser: the session cookie, the map's cells and tallies."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onegrid.api.auth import SESSION_COOKIE
from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Channel
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
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


def test_a_bad_bbox_is_a_422_naming_the_field(client: TestClient) -> None:
    r = client.get("/api/v1/map/cells", params={"bbox": "1,2,3"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "bbox"
