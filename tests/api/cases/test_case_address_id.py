"""A v1 report may name its address by the standard address register's id (标准地址库): the
register must hold it, and the case keeps it beside its point; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.cases.conftest import Headers
from tests.integration.cases.city import (
    CORE_ADDRESS,
    IN_CORE,
    SUBURB_ADDRESS,
    load_register,
)

pytestmark = pytest.mark.postgres
BASE = "/api/v1/cases"
CORE_ID, CORE_TEXT, SUBURB_ID = CORE_ADDRESS[0], CORE_ADDRESS[1], SUBURB_ADDRESS[0]


@pytest.fixture
def register(as_: dict[str, Headers], db: Database, clock: FixedClock) -> dict[str, Headers]:
    with db.unit_of_work() as s:
        load_register(s, clock)
    return as_


def body(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category_code": "E0102",
        "channel": "inspector",
        "description": "垃圾堆积",
        "lon": IN_CORE[0],
        "lat": IN_CORE[1],
    }
    out.update(kw)
    return out


def test_a_registered_address_id_is_kept_and_shown(
    client: TestClient, register: dict[str, Headers]
) -> None:
    resp = client.post(BASE, json=body(address_id=CORE_ID), headers=register["insp"])
    assert resp.status_code == 201, resp.text
    case = resp.json()
    # No address sent: the register's text is the address.
    assert (case["address_id"], case["address"]) == (CORE_ID, CORE_TEXT)
    seen = client.get(f"{BASE}/{case['id']}", headers=register["leader"]).json()
    assert (seen["address_id"], seen["address"]) == (CORE_ID, CORE_TEXT)
    # An id away from the point is kept too; the point still places the case, and the
    # address sent stays as sent.
    far = client.post(
        BASE, json=body(address_id=SUBURB_ID, address="东门外"), headers=register["insp"]
    )
    assert far.status_code == 201, far.text
    kept = far.json()
    assert (kept["address_id"], kept["address"]) == (SUBURB_ID, "东门外")
    assert kept["location"]["district"] == "110101"
    plain = client.post(BASE, json=body(), headers=register["insp"]).json()
    assert plain["address_id"] is None


def test_an_address_id_the_register_does_not_hold_is_a_422(
    client: TestClient, register: dict[str, Headers]
) -> None:
    leader = register["leader"]
    for sent, rule in (
        ("110101001001-9999", "known_address"),
        ("x" * 65, "string_too_long"),
        (f"{CORE_ID}\x00", "control_character"),
    ):
        resp = client.post(BASE, json=body(address_id=sent), headers=register["insp"])
        assert resp.status_code == 422, resp.text
        assert [(e["field"], e["rule"]) for e in resp.json()["errors"]] == [("address_id", rule)]
    # Answered with every other broken rule at once.
    both = client.post(
        BASE, json=body(address_id="nope", category_code="E9999"), headers=register["insp"]
    )
    found = {(e["field"], e["rule"]) for e in both.json()["errors"]}
    assert found == {("address_id", "known_address"), ("category_code", "known_category")}
    assert client.get(BASE, headers=leader).json()["items"] == []  # nothing half-created
