"""Parking areas over HTTP: staff and gateways read them, admins put and deactivate them (a
district's admin only in the district), bad input is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.sensing.conftest import PASSWORD, Headers
from tests.integration.sensing.city import EAST_D, City

URL = "/api/v1/sensing/bikes/areas"
WEST_SPOT = {"lon": 116.305, "lat": 39.91, "radius_m": 25}
EAST_SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[116.3148, 39.9098], [116.3152, 39.9098], [116.3152, 39.9102], [116.3148, 39.9098]]
    ],
}


@pytest.fixture
def east_admin(client: TestClient, db: Database, clock: FixedClock, city: City) -> Headers:
    with db.unit_of_work() as s:
        people.create_user(
            s,
            "east-admin",
            PASSWORD,
            clock,
            grants=[Grant(Role.DISTRICT_ADMIN, Scope.area(EAST_D))],
        )
    resp = client.post("/api/v1/auth/token", data={"username": "east-admin", "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def errors(resp: Any) -> set[tuple[str, str]]:
    assert resp.status_code == 422, resp.text
    return {(e["field"], e["rule"]) for e in resp.json()["errors"]}


def test_admins_put_list_and_deactivate_areas(
    client: TestClient, users: dict[str, Headers], keys: dict[str, Headers]
) -> None:
    body = {"name": "Metro exit A", "capacity": 40, **WEST_SPOT}
    assert client.put(f"{URL}/A", json=body).status_code == 401
    assert client.put(f"{URL}/A", json=body, headers=users["analyst"]).status_code == 403
    assert client.put(f"{URL}/A", json=body, headers=keys["gateway"]).status_code == 403
    resp = client.put(f"{URL}/A", json=body, headers=users["admin"])
    assert resp.status_code == 200, resp.text
    a = resp.json()
    assert (a["code"], a["name"], a["capacity"], a["active"]) == ("A", "Metro exit A", 40, True)
    assert a["geometry"]["type"] == "Polygon"
    assert abs(a["lon"] - 116.305) < 1e-4 and abs(a["lat"] - 39.91) < 1e-4
    square = {"capacity": 8, "geometry": EAST_SQUARE}
    assert client.put(f"{URL}/B", json=square, headers=users["admin"]).json()["name"] == "B"

    changed = client.put(f"{URL}/A", json={**body, "capacity": 30}, headers=users["admin"])
    assert changed.json()["capacity"] == 30
    listed = client.get(URL, headers=users["analyst"])
    assert listed.status_code == 200
    assert [(x["code"], x["capacity"]) for x in listed.json()] == [("A", 30), ("B", 8)]
    assert client.get(URL, headers=keys["gateway"]).status_code == 200
    assert client.get(URL, headers=users["citizen"]).status_code == 403

    assert client.delete(f"{URL}/B", headers=users["analyst"]).status_code == 403
    gone = client.delete(f"{URL}/B", headers=users["admin"])
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert [x["code"] for x in client.get(URL, headers=users["analyst"]).json()] == ["A"]
    everything = client.get(f"{URL}?inactive=true", headers=users["analyst"]).json()
    assert [(x["code"], x["active"]) for x in everything] == [("A", True), ("B", False)]
    assert client.get(f"{URL}/B", headers=users["analyst"]).json()["active"] is False
    assert client.delete(f"{URL}/NOPE", headers=users["admin"]).status_code == 404
    back = client.put(f"{URL}/B", json=square, headers=users["admin"])
    assert back.json()["active"] is True


def test_bad_input_is_a_422_naming_the_field(client: TestClient, users: dict[str, Headers]) -> None:
    admin = users["admin"]
    assert ("radius_m", "radius") in errors(
        client.put(f"{URL}/A", json={"capacity": 4, "lon": 116.305, "lat": 39.91}, headers=admin)
    )
    assert ("geometry", "geometry") in errors(
        client.put(f"{URL}/A", json={"capacity": 4}, headers=admin)
    )
    line = {"type": "LineString", "coordinates": [[116.30, 39.90], [116.31, 39.91]]}
    assert ("geometry.type", "polygon") in errors(
        client.put(f"{URL}/A", json={"capacity": 4, "geometry": line}, headers=admin)
    )
    outside = {"capacity": 4, "lon": 117.0, "lat": 39.91, "radius_m": 25}
    assert ("geometry", "inside_city") in errors(
        client.put(f"{URL}/A", json=outside, headers=admin)
    )
    negative = client.put(f"{URL}/A", json={"capacity": -1, **WEST_SPOT}, headers=admin)
    assert negative.status_code == 422 and "capacity" in negative.text
    assert (
        client.put(f"{URL}/a@b", json={"capacity": 4, **WEST_SPOT}, headers=admin).status_code
        == 422
    )
    assert client.get(URL, headers=admin).json() == []


def test_a_district_admin_manages_the_districts_areas_only(
    client: TestClient, users: dict[str, Headers], east_admin: Headers
) -> None:
    west = {"capacity": 10, **WEST_SPOT}
    assert client.put(f"{URL}/W", json=west, headers=east_admin).status_code == 403
    assert (
        client.put(
            f"{URL}/E", json={"capacity": 5, "geometry": EAST_SQUARE}, headers=east_admin
        ).status_code
        == 200
    )
    assert client.put(f"{URL}/W", json=west, headers=users["admin"]).status_code == 200
    assert client.delete(f"{URL}/W", headers=east_admin).status_code == 403
    assert client.delete(f"{URL}/E", headers=east_admin).status_code == 200


def test_a_collection_loads_all_or_nothing(client: TestClient, users: dict[str, Headers]) -> None:
    def feature(code: str, capacity: Any, lon: float) -> dict[str, Any]:
        return {
            "type": "Feature",
            "properties": {"code": code, "capacity": capacity, "radius_m": 20},
            "geometry": {"type": "Point", "coordinates": [lon, 39.91]},
        }

    good = {
        "type": "FeatureCollection",
        "features": [feature("A", 5, 116.305), feature("B", 6, 116.315)],
    }
    bad = {
        "type": "FeatureCollection",
        "features": [feature("C", 5, 116.305), feature("D", 6, 118.0)],
    }
    assert ("features[1].geometry", "inside_city") in errors(
        client.put(URL, json=bad, headers=users["admin"])
    )
    assert ("features[0].properties.capacity", "capacity") in errors(
        client.put(
            URL,
            json={"type": "FeatureCollection", "features": [feature("C", -2, 116.3)]},
            headers=users["admin"],
        )
    )
    assert client.get(URL, headers=users["admin"]).json() == []
    resp = client.put(URL, json=good, headers=users["admin"])
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"added": ["A", "B"], "changed": [], "deactivated": []}
    only_a = {"areas": [{"code": "A", "capacity": 7, "lon": 116.305, "lat": 39.91, "radius_m": 20}]}
    resp = client.put(f"{URL}?replace=true", json=only_a, headers=users["admin"])
    assert resp.json() == {"added": [], "changed": ["A"], "deactivated": ["B"]}
