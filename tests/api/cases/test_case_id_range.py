"""A case id no case can have (past the 32-bit id column) is a case not found, as 0 is, on
every endpoint that takes one in its path: never the database's out-of-range error (a 500 on
PostgreSQL); on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, create

pytestmark = pytest.mark.postgres
TOO_BIG = [2**31, 3_000_000_000, 10**30, -(2**31) - 1]


def _case_routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        if "{case_id}" in path
        for method in operations
    ]
    assert len(routes) > 20  # every transition, read, attachment, merge, split, rating…
    return routes


@pytest.mark.parametrize("case_id", TOO_BIG)
def test_an_id_past_the_column_is_a_case_not_found_everywhere(
    client: TestClient, as_: dict[str, Headers], case_id: int
) -> None:
    create(client, as_["insp"])  # a table with a case in it
    for method, path in _case_routes(client):
        url = path.replace("{case_id}", str(case_id)).replace("{attachment_id}", "1")
        resp = client.request(method, url, json={}, headers=as_["leader"])
        assert resp.status_code == 404, (method, url, resp.text)
        assert resp.json()["detail"] == f"no case {case_id}", (method, url)


def test_the_largest_id_is_looked_up_as_any_other(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    for case_id in (2**31 - 1, 0, -1):
        resp = client.get(f"{BASE}/{case_id}", headers=as_["leader"])
        assert resp.status_code == 404 and resp.json()["detail"] == f"no case {case_id}"
    case = create(client, as_["insp"])
    assert client.get(f"{BASE}/{case['id']}", headers=as_["leader"]).status_code == 200
    assert client.post(f"{BASE}/{2**31}/accept", json={}).status_code == 404
    not_an_id = client.get(f"{BASE}/abc", headers=as_["leader"])
    assert not_an_id.status_code == 422
    assert [e["field"] for e in not_an_id.json()["errors"]] == ["case_id"]
