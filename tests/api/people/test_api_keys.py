"""API keys over HTTP: created with the secret shown once, listed without it, revoked at once."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.people.domain import Grant, Role, Scope
from tests.api.people.conftest import Login, MakeUser

KEYS = "/api/v1/api-keys"


def _create(client: TestClient, auth: dict[str, str], **body: str) -> dict:  # type: ignore[type-arg]
    resp = client.post(KEYS, json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_create_shows_the_key_once_and_the_list_never(
    client: TestClient, admin: dict[str, str], clock: FixedClock
) -> None:
    created = _create(client, admin, name="open311 gateway", role="open311_client")
    key = created["key"]
    assert key.startswith(f"og_{created['prefix']}_")
    assert (created["owner"], created["scope"], created["role"]) == (
        "boss",
        "city",
        "open311_client",
    )
    assert created["last_used_at"] is None and created["revoked_at"] is None

    clock.advance(timedelta(minutes=5))
    me = client.get("/api/v1/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["name"] == "open311 gateway"

    listed = client.get(KEYS, headers=admin)
    assert listed.status_code == 200
    (item,) = listed.json()
    assert "key" not in item and key not in listed.text
    assert item["prefix"] == created["prefix"] and item["owner"] == "boss"
    assert item["created_at"].startswith("2026-03-02T01:00:00")
    assert item["last_used_at"].startswith("2026-03-02T01:05:00")
    one = client.get(f"{KEYS}/{created['prefix']}", headers=admin).json()
    assert one == item


def test_a_revoked_key_is_refused_at_once(client: TestClient, admin: dict[str, str]) -> None:
    created = _create(client, admin, name="gw", role="sensor_gateway", scope="110105")
    key = {"Authorization": f"ApiKey {created['key']}"}
    assert client.get("/api/v1/me", headers=key).status_code == 200

    resp = client.delete(f"{KEYS}/{created['prefix']}", headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["revoked_at"].startswith("2026-03-02T01:00:00")
    refused = client.get("/api/v1/me", headers=key)  # the very next request, same instant
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]

    assert client.get(KEYS, headers=admin).json() == []
    (revoked,) = client.get(KEYS, params={"include_revoked": True}, headers=admin).json()
    assert revoked["prefix"] == created["prefix"] and revoked["revoked_at"]
    # Revoking again changes nothing.
    again = client.delete(f"{KEYS}/{created['prefix']}", headers=admin).json()
    assert again["revoked_at"] == revoked["revoked_at"]


def test_bad_input_names_the_field_and_rule(client: TestClient, admin: dict[str, str]) -> None:
    cases = [
        ({"name": "x", "role": "city_admin"}, "role", "not_for_keys"),
        ({"name": "x", "role": "wizard"}, "role", "known_role"),
        ({"name": "x", "role": "open311_client", "scope": "dept:"}, "scope", None),
        ({"name": " ", "role": "open311_client"}, "name", None),
        ({"role": "open311_client"}, "name", None),
    ]
    for body, field, rule in cases:
        resp = client.post(KEYS, json=body, headers=admin)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        errors = resp.json()["errors"]
        assert errors[0]["field"] == field, body
        if rule:
            assert errors[0]["rule"] == rule
    assert client.get(KEYS, params={"include_revoked": True}, headers=admin).json() == []


def test_only_administrators_manage_keys(
    client: TestClient, make_user: MakeUser, login: Login, admin: dict[str, str]
) -> None:
    created = _create(client, admin, name="gw", role="open311_client")
    make_user("disp", Grant(Role.DISPATCHER, Scope.city()))
    disp = login("disp")
    for resp in (
        client.get(KEYS, headers=disp),
        client.post(KEYS, json={"name": "x", "role": "open311_client"}, headers=disp),
        client.delete(f"{KEYS}/{created['prefix']}", headers=disp),
    ):
        assert resp.status_code == 403, resp.text
        assert "people.admin" in resp.json()["detail"]
    assert client.get(KEYS).status_code == 401
    # A program cannot manage keys either, not even its own.
    own = client.delete(f"{KEYS}/{created['prefix']}", headers={"X-API-Key": created["key"]})
    assert own.status_code == 403


def test_district_admin_manages_keys_within_its_district_only(
    client: TestClient, make_user: MakeUser, login: Login, admin: dict[str, str]
) -> None:
    city_key = _create(client, admin, name="city gw", role="open311_client")
    other = _create(client, admin, name="xicheng gw", role="sensor_gateway", scope="110102")
    make_user("chaoyang", Grant(Role.DISTRICT_ADMIN, Scope.area("110105")))
    district = login("chaoyang")

    mine = _create(client, district, name="chaoyang gw", role="sensor_gateway", scope="110105001")
    assert mine["owner"] == "chaoyang"
    outside = client.post(
        KEYS, json={"name": "x", "role": "sensor_gateway", "scope": "110102"}, headers=district
    )
    assert outside.status_code == 403
    city_wide = client.post(KEYS, json={"name": "x", "role": "open311_client"}, headers=district)
    assert city_wide.status_code == 403

    assert [k["prefix"] for k in client.get(KEYS, headers=district).json()] == [mine["prefix"]]
    for prefix in (city_key["prefix"], other["prefix"]):
        # Keys out of reach look missing: prefixes must not reveal what exists elsewhere.
        assert client.get(f"{KEYS}/{prefix}", headers=district).status_code == 404
        assert client.delete(f"{KEYS}/{prefix}", headers=district).status_code == 404
    assert client.delete(f"{KEYS}/{mine['prefix']}", headers=district).status_code == 200
    listed = {k["name"]: k["revoked_at"] for k in client.get(KEYS, headers=admin).json()}
    assert listed == {"city gw": None, "xicheng gw": None}


def test_unknown_prefix_is_404(client: TestClient, admin: dict[str, str]) -> None:
    resp = client.delete(f"{KEYS}/0123456789", headers=admin)
    assert resp.status_code == 404 and "0123456789" in resp.json()["detail"]
    assert client.get(f"{KEYS}/{'x' * 40}", headers=admin).status_code == 422


def test_openapi_documents_the_key_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths[KEYS]) == {"get", "post"}
    assert set(paths[f"{KEYS}/{{prefix}}"]) == {"get", "delete"}
    created = paths[KEYS]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/ApiKeyCreatedOut")
