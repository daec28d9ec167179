"""The real Beijing district file (DataV/AMap, GCJ-02) uploaded through the admin endpoint: the
flaw in it is named in one 422, the repaired plan is shown, and once applied the UCI PRSA
air-quality stations (WGS84) land in their districts through the locator."""

from __future__ import annotations

import csv

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.grid.admin_city import PASSWORD
from tests.support import shared_file

pytestmark = pytest.mark.realdata

STATIONS = {
    "东四": "东城区",
    "万寿西宫": "西城区",
    "奥体中心": "朝阳区",
    "古城": "石景山区",
    "海淀万柳": "海淀区",
    "昌平镇": "昌平区",
    "顺义新城": "顺义区",
    "怀柔镇": "怀柔区",
}
OPTIONS = {"level": "district", "code_field": "adcode", "name_field": "name", "crs": "gcj02"}


def test_beijing_districts_over_http(
    client: TestClient, db: Database, clock: FixedClock, cheap_hashing: None
) -> None:
    with db.unit_of_work() as s:
        people.create_user(
            s, "admin", PASSWORD, clock, grants=[Grant(Role.CITY_ADMIN, Scope.city())]
        )
    token = client.post("/api/v1/auth/token", data={"username": "admin", "password": PASSWORD})
    who = {"Authorization": f"Bearer {token.json()['access_token']}"}
    raw = shared_file("beijing_districts_datav_110100.geojson").read_bytes()
    upload = {"file": ("beijing_districts_datav_110100.geojson", raw, "application/geo+json")}

    refused = client.post("/api/v1/areas/import", params=OPTIONS, files=upload, headers=who)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["errors"]
    assert problem["record"] == "feature 10 (code 110113)"
    assert (problem["feature_index"], problem["feature_code"]) == (10, "110113")
    assert problem["rule"] == "valid-geometry" and "Self-intersection" in problem["message"]

    params = {**OPTIONS, "repair": True}
    plan = client.post(
        "/api/v1/areas/import", params={**params, "dry_run": True}, files=upload, headers=who
    ).json()
    assert len(plan["new"]) == 16 and "110113" in plan["new"]
    assert [r["record"] for r in plan["repaired"]] == ["feature 10 (code 110113)"]
    assert [r["feature_index"] for r in plan["repaired"]] == [10]
    assert len(plan["map"]["features"]) == 16
    assert client.get("/api/v1/areas", params={"level": "district"}).json() == []

    applied = client.post("/api/v1/areas/import", params=params, files=upload, headers=who)
    assert applied.status_code == 200, applied.text
    names = {a["code"]: a["name_zh"] for a in client.get("/api/v1/areas").json()}
    rows = list(
        csv.DictReader(shared_file("beijing_prsa_station_coords.csv").open(encoding="utf-8"))
    )
    stations = [r for r in rows if r["name_zh"] in STATIONS]
    located = client.post(
        "/api/v1/locate/batch",
        json={"points": [[float(r["lon"]), float(r["lat"])] for r in stations]},
    ).json()
    found = {r["name_zh"]: names.get(d) for r, d in zip(stations, located["district"], strict=True)}
    assert found == STATIONS
