"""The hotline desk over HTTP takes a standard address's id (标准地址库) instead of a point: the
call and its case get the register's point, text and id; a bad id is a 422 and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.dispatch.conftest import Headers
from tests.integration.cases.city import CORE_ADDRESS, SUBURB_ADDRESS, load_register

pytestmark = pytest.mark.postgres

CALL: dict[str, Any] = {
    "nature": "complaint",
    "text": "小区门口垃圾堆积三天无人清理",
    "caller_phone": "13900001111",
    "category_code": "E0102",
}


@pytest.fixture
def register(as_: dict[str, Headers], db: Database, clock: FixedClock) -> dict[str, Headers]:
    with db.unit_of_work() as s:
        load_register(s, clock)
    return as_


def test_a_call_placed_by_address_id_becomes_a_case_at_the_registered_address(
    client: TestClient, register: dict[str, Headers]
) -> None:
    address_id, text, (lon, lat) = SUBURB_ADDRESS
    seen = client.post(
        "/api/v1/hotline/preview", json={**CALL, "address_id": address_id}, headers=register["desk"]
    )
    assert seen.status_code == 200, seen.text
    assert seen.json()["route"] is not None  # located: the unit is named
    made = client.post(
        "/api/v1/hotline/calls", json={**CALL, "address_id": address_id}, headers=register["desk"]
    )
    assert made.status_code == 201, made.text
    call = made.json()["call"]
    assert (call["lon"], call["lat"], call["address"]) == (lon, lat, text)
    case = client.get(f"/api/v1/cases/{made.json()['case_id']}", headers=register["desk"]).json()
    assert (case["address_id"], case["address"]) == (address_id, text)
    assert (case["location"]["lon"], case["location"]["lat"]) == (lon, lat)
    assert case["location"]["district"] == "110112"


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"address_id": "110101001001-9999"}, "known_address"),
        ({"address_id": CORE_ADDRESS[0], "lon": 116.305, "lat": 39.91}, "one_place"),
        ({"address_id": "x" * 65}, "string_too_long"),
        ({"address_id": f"{CORE_ADDRESS[0]}\x00"}, "control_character"),
    ],
)
def test_a_bad_address_id_is_a_422_naming_it_and_nothing_is_written(
    client: TestClient, register: dict[str, Headers], change: dict[str, Any], rule: str
) -> None:
    for path in ("/api/v1/hotline/preview", "/api/v1/hotline/calls"):
        resp = client.post(path, json={**CALL, **change}, headers=register["desk"])
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        found = [(e["field"], e["rule"]) for e in resp.json()["errors"]]
        assert found == [("address_id", rule)]
    assert client.get("/api/v1/hotline/calls", headers=register["desk"]).json() == []
    assert client.get("/api/v1/cases", headers=register["desk"]).json()["items"] == []


def test_a_call_without_a_place_asks_for_a_point_or_an_address_id(
    client: TestClient, register: dict[str, Headers]
) -> None:
    resp = client.post("/api/v1/hotline/calls", json=CALL, headers=register["desk"])
    assert resp.status_code == 422
    [problem] = resp.json()["errors"]
    assert (problem["field"], problem["rule"]) == ("lon", "required")
    assert "address_id" in problem["message"]


def test_the_openapi_document_shows_address_id_with_an_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CallIn"]
    assert "address_id" in schema["properties"]
    assert any("address_id" in example for example in schema["examples"])


def test_the_openapi_document_says_the_case_keeps_the_address_id(client: TestClient) -> None:
    # The call row has no address_id: only the case keeps it.
    schema = client.get("/openapi.json").json()["components"]["schemas"]["CallIn"]
    said = " ".join(schema["properties"]["address_id"]["description"].split())
    assert "the case keeps the id" in said
    assert "its case are placed at the register's point and keep" not in said
