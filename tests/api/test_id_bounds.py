"""An id no row can have (past the 32-bit id columns, or below 1) in a path is a thing not
found, and an offset past them is refused by name: never the database's out-of-range error (a
500: SQLite's OverflowError past 64 bits, PostgreSQL's out of range past 32); on SQLite and
PostgreSQL. Case ids have their own test (``tests/api/cases/test_case_id_range.py``)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services
from onegrid.people.domain import Grant, Role, Scope
from tests.api.signins import PASSWORD, Headers, sign_in

pytestmark = pytest.mark.postgres
API = "/api/v1"
CITY_ADMIN = Grant(Role.CITY_ADMIN, Scope.city())
OUT_OF_RANGE = [2**31, 2**63, 10**30, 0, -1, -(2**63) - 1]

# Every id path outside the cases router, with the words its own lookup uses for a missing row.
ROUTES = [
    ("GET", "/admin/time-limits/revisions/{}", "no time limits revision {}"),
    ("GET", "/admin/calendar/revisions/{}", "no calendar revision {}"),
    ("POST", "/duty-rules/{}/end", "no duty rule #{}"),
    ("GET", "/hotline/calls/{}", "no hotline call {}"),
    ("POST", "/hotline/duplicates/{}/confirm", "no duplicate proposal {}"),
    ("POST", "/hotline/duplicates/{}/undo", "no duplicate proposal {}"),
    ("GET", "/users/{}", "no user with id {}"),
    ("PATCH", "/users/{}", "no user with id {}"),
    ("POST", "/users/{}/password", "no user with id {}"),
    ("GET", "/sensing/alerts/{}", "no alert {}"),
    ("GET", "/taxonomy/versions/{}", "no taxonomy version {}"),
    ("POST", "/taxonomy/versions/{}/activate", "no taxonomy version {}"),
]


@pytest.fixture
def boss(client: TestClient, db: Database, clock: FixedClock) -> Headers:
    with db.unit_of_work() as s:
        services.create_user(
            s, "boss", PASSWORD, clock, grants=[Grant(Role.CITY_ADMIN, Scope.city())]
        )
    return sign_in(client, "boss")


@pytest.mark.parametrize("row_id", OUT_OF_RANGE)
def test_an_id_no_row_can_have_is_not_found(client: TestClient, boss: Headers, row_id: int) -> None:
    for method, path, missing in ROUTES:
        url = API + path.format(row_id)
        resp = client.request(method, url, json={}, headers=boss)
        assert resp.status_code == 404, (method, url, resp.text)
        assert resp.json()["detail"] == missing.format(row_id), (method, url)


def test_the_largest_id_is_looked_up_as_any_other(client: TestClient, boss: Headers) -> None:
    for method, path, missing in ROUTES:
        if method == "GET":
            url = API + path.format(2**31 - 1)
            resp = client.get(url, headers=boss)
            assert resp.status_code == 404, (url, resp.text)
            assert resp.json()["detail"] == missing.format(2**31 - 1), url
    me = client.get(f"{API}/me", headers=boss).json()
    assert client.get(f"{API}/users/{me['id']}", headers=boss).status_code == 200
    not_an_id = client.get(f"{API}/hotline/calls/abc", headers=boss)
    assert not_an_id.status_code == 422
    assert [e["field"] for e in not_an_id.json()["errors"]] == ["call_id"]


@pytest.mark.parametrize(
    "path",
    ["/users", "/sensing/alerts", "/sensing/devices", "/sensing/dead-letters"],
)
def test_an_offset_past_the_ids_is_refused_by_name(
    client: TestClient, boss: Headers, path: str
) -> None:
    for offset in (2**31, 2**63):
        resp = client.get(API + path, params={"offset": offset}, headers=boss)
        assert resp.status_code == 422, (path, offset, resp.text)
        [error] = resp.json()["errors"]
        assert (error["field"], error["rule"]) == ("offset", "less_than_equal")
    assert client.get(API + path, params={"offset": 2**31 - 1}, headers=boss).status_code == 200


def test_an_inspector_filter_past_the_ids_is_refused_by_name(
    client: TestClient, boss: Headers
) -> None:
    resp = client.get(f"{API}/inspector-grids", params={"user_id": 2**63}, headers=boss)
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == ["user_id"]


@pytest.mark.parametrize("path", ["/inspector-grids", "/inspector-grids/end"])
def test_an_inspector_id_past_the_ids_in_a_body_is_refused_by_name(
    client: TestClient, boss: Headers, path: str
) -> None:
    body = {"user_id": 2**63, "unit_grid_codes": ["110101001001001"]}
    if path.endswith("/end"):
        body = {"user_id": 2**63, "unit_grid_code": "110101001001001"}
    resp = client.post(API + path, json=body, headers=boss)
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == ["user_id"]
