"""The hotline desk over HTTP: problem+json for bad input, masking, the whole journey."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people.credentials import create_api_key
from onegrid.people.domain import Role, Scope
from tests.api.dispatch.conftest import Headers
from tests.integration.cases.city import IN_CORE

pytestmark = pytest.mark.postgres

CALL: dict[str, Any] = {
    "nature": "complaint",
    "text": "小区门口垃圾堆积三天无人清理",
    "caller_name": "李四",
    "caller_phone": "13900001111",
    "lon": IN_CORE[0],
    "lat": IN_CORE[1],
    "category_code": "E0102",
}


def test_preview_then_record_then_dispatch(client: TestClient, as_: dict[str, Headers]) -> None:
    seen = client.post("/api/v1/hotline/preview", json=CALL, headers=as_["operator"])
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["model_available"] is False and "no model" in body["notes"][0]
    assert body["route"]["department_code"] == "sanitation"
    assert body["limit"] == {"name": "general", "feedback_hours": 168.0, "response_hours": 24.0}
    made = client.post("/api/v1/hotline/calls", json=CALL, headers=as_["desk"])
    assert made.status_code == 201, made.text
    result = made.json()
    assert result["dispatched"] is True and result["case_status"] == "dispatched"
    assert result["call"]["caller_phone"] == "13900001111"
    case_id = result["case_id"]
    route = client.get(f"/api/v1/hotline/cases/{case_id}/route", headers=as_["operator"])
    assert route.json()["rule"] == "duty_owner" and route.json()["dispatched_at"]
    contact = client.post(f"/api/v1/hotline/cases/{case_id}/contact", headers=as_["sanit"])
    assert contact.status_code == 200 and contact.json()["contacted_at"]
    # An inspector may read the case but not the caller's phone.
    calls = client.get(f"/api/v1/hotline/cases/{case_id}/calls", headers=as_["insp"])
    assert calls.status_code == 200
    assert calls.json()[0]["caller_phone"] == "139****1111" and calls.json()[0]["masked"]
    rates = client.get("/api/v1/hotline/rates?month=2026-03", headers=as_["analyst"])
    assert rates.status_code == 200
    [unit] = rates.json()["units"]
    assert (unit["unit"], unit["dispatched"], unit["response_rate"]) == ("sanitation", 1, 1.0)
    assert unit["resolution_rate"] is None  # no callback yet: no data, not 0 %


def test_a_consultation_is_answered(client: TestClient, as_: dict[str, Headers]) -> None:
    found = client.get("/api/v1/hotline/knowledge?q=停电了怎么办", headers=as_["operator"])
    assert found.status_code == 200 and found.json()[0]["code"] == "KB-POWER-001"
    made = client.post(
        "/api/v1/hotline/calls",
        json={"nature": "consultation", "text": "家里停电了找谁", "caller_phone": "13900002222"},
        headers=as_["operator"],
    )
    assert made.status_code == 201, made.text
    assert made.json()["outcome"] == "answered" and made.json()["case_id"] is None
    listed = client.get("/api/v1/hotline/calls?outcome=answered", headers=as_["operator"])
    assert [c["id"] for c in listed.json()] == [made.json()["call"]["id"]]
    assert client.get("/api/v1/hotline/calls?outcome=case", headers=as_["operator"]).json() == []


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"text": "x" * 4001}, "text", "max_length"),
    ({"lat": None}, "lat", "point_pair"),
    ({"caller_phone": "call me"}, "caller_phone", "phone_format"),
    ({"category_code": "Z9999"}, "category_code", "known_category"),
    ({"lon": 116.40, "lat": 39.95}, "lon", "inside_city"),
    ({"department_code": "nobody"}, "department_code", "known_department"),
    ({"nature": "gossip"}, "nature", "enum"),
    # PostgreSQL refuses NUL in text: these were 500s there before the check.
    ({"text": "垃圾\x00堆积"}, "text", "control_character"),
    ({"caller_name": "李\x00四"}, "caller_name", "control_character"),
    ({"address": "门口\x07"}, "address", "control_character"),
    ({"category_code": "E0102\x00"}, "category_code", "control_character"),
]


def test_bad_calls_are_problems_and_nothing_is_written(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    for change, field, rule in BAD:
        resp = client.post("/api/v1/hotline/calls", json={**CALL, **change}, headers=as_["desk"])
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        errors = resp.json()["errors"]
        assert any(e["field"].endswith(field) for e in errors), (change, errors)
        if rule != "enum":
            assert {"field": field, "rule": rule} in [
                {"field": e["field"], "rule": e["rule"]} for e in errors
            ]
    listed = client.get("/api/v1/cases", headers=as_["desk"])
    assert listed.json()["items"] == []


def test_roles_are_checked(client: TestClient, as_: dict[str, Headers]) -> None:
    assert client.post("/api/v1/hotline/calls", json=CALL).status_code == 401
    assert client.post("/api/v1/hotline/calls", json=CALL, headers=as_["insp"]).status_code == 403
    assert (
        client.get("/api/v1/hotline/rates?month=2026-03", headers=as_["operator"]).status_code
        == 403
    )
    bad = client.get("/api/v1/hotline/rates?month=2026-13", headers=as_["analyst"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["rule"] == "month_format"


def test_duplicates_are_proposed_and_confirmed(client: TestClient, as_: dict[str, Headers]) -> None:
    first = client.post("/api/v1/hotline/calls", json=CALL, headers=as_["operator"]).json()
    again = client.post(
        "/api/v1/hotline/calls",
        json={**CALL, "caller_phone": "13700003333", "text": "门口垃圾没人清理"},
        headers=as_["operator"],
    ).json()
    [proposal] = again["duplicates"]
    assert proposal["existing_case_id"] == first["case_id"]
    listed = client.get("/api/v1/hotline/duplicates", headers=as_["desk"]).json()
    assert [p["id"] for p in listed] == [proposal["id"]]
    done = client.post(f"/api/v1/hotline/duplicates/{proposal['id']}/confirm", headers=as_["desk"])
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    case = client.get(f"/api/v1/cases/{again['case_id']}", headers=as_["desk"]).json()
    assert case["status"] == "merged"
    # Both reporters are kept informed; an inspector sees them masked.
    people = client.get(f"/api/v1/hotline/cases/{first['case_id']}/requesters", headers=as_["desk"])
    assert people.status_code == 200, people.text
    phones = {(p["source"], p["phone"]) for p in people.json()}
    assert ("merged_case", "13700003333") in phones and ("case", "13900001111") in phones
    masked = client.get(f"/api/v1/hotline/cases/{first['case_id']}/requesters", headers=as_["insp"])
    assert {p["phone"] for p in masked.json()} == {"139****1111", "137****3333"}


def test_a_department_systems_key_records_no_contact(
    client: TestClient, as_: dict[str, Headers], db: Database, clock: FixedClock
) -> None:
    """A department's Open311 key moves its cases only by posting updates: the first contact
    (counted by the response rate) is the handlers' to record."""
    made = client.post("/api/v1/hotline/calls", json=CALL, headers=as_["desk"])
    assert made.status_code == 201, made.text
    case_id = made.json()["case_id"]
    with db.unit_of_work() as s:
        _, raw = create_api_key(
            s, "sanitation-system", Role.OPEN311_CLIENT, Scope.department("sanitation"), clock
        )
    url = f"/api/v1/hotline/cases/{case_id}/contact"
    assert client.post(url, headers={"X-API-Key": raw}).status_code == 403
    route = client.get(f"/api/v1/hotline/cases/{case_id}/route", headers=as_["operator"])
    assert route.json()["contacted_at"] is None
    assert client.post(url, headers=as_["sanit"]).status_code == 200
