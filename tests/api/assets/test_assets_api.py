"""The taxonomy and the component inventory over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.people.domain import Grant, Role, Scope
from tests.integration.assets.city import IN_EAST, IN_WEST, OUTSIDE

Headers = dict[str, str]
COVER = {"class_code": "C0101", "lon": IN_WEST[0], "lat": IN_WEST[1], "owner": "water"}


def _fields(resp: Any) -> set[tuple[str, str]]:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return {(e["field"], e["rule"]) for e in resp.json()["errors"]}


def _create(client: TestClient, headers: Headers, **body: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/components", json={**COVER, **body}, headers=headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_categories_are_public(client: TestClient, city: object) -> None:
    everything = client.get("/api/v1/categories").json()
    assert len(everything) == 120
    events = client.get("/api/v1/categories", params={"kind": "event"}).json()
    assert len(events) == 58 and all(c["code"].startswith("E") for c in events)
    found = client.get("/api/v1/categories", params={"q": "共享单车"}).json()
    assert found[0]["code"] == "E0506" and found[0]["name_en"] == "Shared-bike disorder"
    one = client.get("/api/v1/categories/e0401").json()
    assert (one["name_zh"], one["emergency"], one["urgency"]) == ("道路塌陷", True, "critical")
    assert client.get("/api/v1/taxonomy").json()["category_count"] == 120


def test_category_errors_name_the_code_or_field(client: TestClient, city: object) -> None:
    missing = client.get("/api/v1/categories/C9999")
    assert missing.status_code == 404 and "C9999" in missing.json()["detail"]
    assert ("code", "string_pattern_mismatch") in _fields(client.get("/api/v1/categories/X1"))
    assert ("kind", "enum") in _fields(client.get("/api/v1/categories", params={"kind": "tree"}))


def test_the_inventory_needs_signing_in(client: TestClient, city: object) -> None:
    assert client.get("/api/v1/components").status_code == 401
    assert client.post("/api/v1/components", json=COVER).status_code == 401


def test_create_get_list_and_geojson(client: TestClient, admin: Headers) -> None:
    made = _create(client, admin)
    assert made["id"] == "1101010101000001" and made["district"] == "110101"
    _create(client, admin, class_code="C0115", owner="lamps", lon=IN_EAST[0], lat=IN_EAST[1])
    got = client.get(f"/api/v1/components/{made['id']}", headers=admin).json()
    assert got == made
    page = client.get("/api/v1/components", params={"limit": 1}, headers=admin).json()
    assert [c["id"] for c in page["items"]] == [made["id"]] and page["next_cursor"]
    rest = client.get(
        "/api/v1/components", params={"cursor": page["next_cursor"]}, headers=admin
    ).json()
    assert [c["id"] for c in rest["items"]] == ["1101020115000001"] and rest["next_cursor"] is None
    lamps = client.get("/api/v1/components", params={"class_code": "C0115"}, headers=admin)
    assert [c["owner"] for c in lamps.json()["items"]] == ["lamps"]
    feature = client.get(f"/api/v1/components/{made['id']}.geojson", headers=admin).json()
    assert feature["type"] == "Feature" and feature["id"] == made["id"]
    assert feature["geometry"] == {"type": "Point", "coordinates": list(IN_WEST)}
    assert feature["properties"]["class_code"] == "C0101"


def test_nearby(client: TestClient, admin: Headers) -> None:
    near = _create(client, admin, lon=IN_WEST[0] + 0.0002)
    _create(client, admin, lon=IN_WEST[0] + 0.01)
    resp = client.get(
        "/api/v1/components/nearby",
        params={"lon": IN_WEST[0], "lat": IN_WEST[1], "radius_m": 30},
        headers=admin,
    )
    found = resp.json()
    assert [n["component"]["id"] for n in found] == [near["id"]]
    assert found[0]["distance_m"] == pytest.approx(17.1, abs=0.5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": 200, "lat": 39.9}, "lon"),
        ({"lon": 116.3, "lat": "north"}, "lat"),
        ({"lon": 116.3, "lat": 39.9, "radius_m": 5000}, "radius_m"),
        ({"lat": 39.9}, "lon"),
    ],
)
def test_nearby_bad_input_names_the_field(
    client: TestClient, admin: Headers, params: dict[str, Any], field: str
) -> None:
    resp = client.get("/api/v1/components/nearby", params=params, headers=admin)
    assert field in {f for f, _ in _fields(resp)}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"lon": 181}, ("lon", "less_than_equal")),
        ({"id": "123"}, ("id", "string_pattern_mismatch")),
        ({"owner": ""}, ("owner", "string_too_short")),
        ({"colour": "red"}, ("colour", "extra_forbidden")),
        ({"class_code": "C0999"}, ("class_code", "known_class")),
        ({"id": "1101010102000001"}, ("id", "id_matches_class")),
        ({"owner": "ghost"}, ("owner", "known_department")),
        ({"lon": OUTSIDE[0], "lat": OUTSIDE[1]}, ("lon", "inside_city")),
    ],
)
def test_bad_components_are_422_naming_the_field(
    client: TestClient, admin: Headers, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    resp = client.post("/api/v1/components", json={**COVER, **body}, headers=admin)
    assert expected in _fields(resp)
    assert client.get("/api/v1/components", headers=admin).json()["items"] == []


def test_bad_list_input_is_422(client: TestClient, admin: Headers) -> None:
    assert ("limit", "less_than_equal") in _fields(
        client.get("/api/v1/components", params={"limit": 10_000}, headers=admin)
    )
    assert ("cursor", "cursor_format") in _fields(
        client.get("/api/v1/components", params={"cursor": "!!"}, headers=admin)
    )
    assert ("component_id", "string_pattern_mismatch") in _fields(
        client.get("/api/v1/components/abc", headers=admin)
    )
    assert client.get("/api/v1/components/1101010101999999", headers=admin).status_code == 404


def test_patch_and_state(client: TestClient, admin: Headers) -> None:
    cid = _create(client, admin)["id"]
    resp = client.patch(
        f"/api/v1/components/{cid}", json={"name": "东门井盖", "maintainer": "sewer"}, headers=admin
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["name"], resp.json()["maintainer"]) == ("东门井盖", "sewer")
    cleared = client.patch(f"/api/v1/components/{cid}", json={"maintainer": None}, headers=admin)
    assert cleared.json()["maintainer"] is None and cleared.json()["name"] == "东门井盖"
    moved = client.patch(
        f"/api/v1/components/{cid}", json={"lon": IN_EAST[0], "lat": IN_EAST[1]}, headers=admin
    )
    assert ("lon", "id_matches_district") in _fields(moved)
    nowhere = client.patch(
        f"/api/v1/components/{cid}", json={"lon": None, "lat": None}, headers=admin
    )
    assert ("lon", "number") in _fields(nowhere)
    url = f"/api/v1/components/{cid}/state"
    assert client.post(url, json={"state": "damaged"}, headers=admin).json()["state"] == "damaged"
    again = client.post(url, json={"state": "damaged"}, headers=admin)
    assert ("state", "allowed_transition") in _fields(again)
    assert client.post(url, json={"state": "removed"}, headers=admin).status_code == 200
    assert client.post(url, json={"state": "normal"}, headers=admin).status_code == 409
    missing = client.patch("/api/v1/components/1101010101999999", json={"note": "x"}, headers=admin)
    assert missing.status_code == 404


def test_readers_see_only_their_area(
    client: TestClient, admin: Headers, sign_in: Callable[..., Headers]
) -> None:
    west = _create(client, admin)["id"]
    east = _create(client, admin, lon=IN_EAST[0], lat=IN_EAST[1])["id"]
    inspector = sign_in("insp", Grant(Role.INSPECTOR, Scope.area("110102")))
    listed = client.get("/api/v1/components", headers=inspector).json()["items"]
    assert [c["id"] for c in listed] == [east]
    assert client.get(f"/api/v1/components/{west}", headers=inspector).status_code == 404
    assert client.get(f"/api/v1/components/{east}", headers=inspector).status_code == 200
    assert client.post("/api/v1/components", json=COVER, headers=inspector).status_code == 403
    district_admin = sign_in("dist", Grant(Role.DISTRICT_ADMIN, Scope.area("110102")))
    assert client.post("/api/v1/components", json=COVER, headers=district_admin).status_code == 403
    mine = {**COVER, "lon": IN_EAST[0], "lat": IN_EAST[1]}
    assert client.post("/api/v1/components", json=mine, headers=district_admin).status_code == 201


def test_counts(client: TestClient, admin: Headers) -> None:
    _create(client, admin)
    _create(client, admin)
    counts = client.get("/api/v1/components/counts", params={"level": "district"}, headers=admin)
    assert counts.json() == [{"area_code": "110101", "class_code": "C0101", "count": 2}]


def test_openapi_documents_the_assets_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/categories",
        "/api/v1/components/nearby",
        "/api/v1/components/{component_id}.geojson",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation["summary"]
