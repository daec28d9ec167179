"""The case endpoints check the credential in the request's own transaction: a signed-out token
or a revoked key is refused on the very next request, a key's last use is still recorded, and a
wrong credential is never taken for an anonymous caller."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people.credentials import create_api_key, revoke_api_key
from onegrid.people.domain import Role, Scope
from onegrid.people.models import ApiKey
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, body, create


def _key(city: Database, clock: FixedClock) -> tuple[str, str]:
    with city.unit_of_work() as s:
        row, raw = create_api_key(s, "gauge gateway", Role.SENSOR_GATEWAY, Scope.city(), clock)
        return row.prefix, raw


def _last_used(city: Database, prefix: str) -> object:
    with city.reader() as s:
        return s.execute(select(ApiKey.last_used_at).where(ApiKey.prefix == prefix)).scalar_one()


def test_a_signed_out_token_is_refused_on_the_next_list_and_create(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    leader = as_["leader"]
    case = create(client, as_["insp"])
    assert client.get(BASE, headers=leader).status_code == 200
    assert client.get(f"{BASE}/{case['id']}", headers=leader).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=leader).status_code == 204
    for resp in (
        client.get(BASE, headers=leader),
        client.get(f"{BASE}/{case['id']}", headers=leader),
        client.post(BASE, json=body(channel="instruction"), headers=leader),
        client.post(f"{BASE}/{case['id']}/file", json={}, headers=leader),
    ):
        assert resp.status_code == 401, resp.text
        assert "signed out" in resp.json()["detail"]


def test_a_revoked_key_is_refused_at_once_and_its_use_is_recorded(
    client: TestClient, city: Database, clock: FixedClock
) -> None:
    prefix, raw = _key(city, clock)
    key = {"X-API-Key": raw}
    clock.advance(timedelta(minutes=5))
    resp = client.post(BASE, json=body(channel="sensor"), headers=key)
    assert resp.status_code == 201, resp.text
    assert resp.json()["channel"] == "sensor" and resp.json()["status"] == "to_file"
    # The key's last use is written in the request's transaction and kept.
    assert _last_used(city, prefix) == clock.now()
    clock.advance(timedelta(minutes=5))
    second = client.post(BASE, json=body(channel="sensor", description="又有垃圾"), headers=key)
    assert second.status_code == 201, second.text
    assert _last_used(city, prefix) == clock.now()
    with city.unit_of_work() as s:
        revoke_api_key(s, prefix, clock)
    refused = client.post(BASE, json=body(channel="sensor"), headers=key)  # the very next one
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


def test_a_wrong_credential_is_401_never_anonymous(client: TestClient, city: Database) -> None:
    # Anonymous callers may report on the web channel; a wrong credential must not become one.
    for headers in (
        {"Authorization": "Bearer not-a-token"},
        {"X-API-Key": "og_0123456789_" + "x" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        resp = client.post(BASE, json=body(channel="web_app"), headers=headers)
        assert resp.status_code == 401, (headers, resp.text)
        assert client.get(BASE, headers=headers).status_code == 401
    assert client.post(BASE, json=body(channel="web_app")).status_code == 201
