"""The dispatcher's two queues over the v1 case API, on SQLite and PostgreSQL: cases to dispatch
for the first time and cases a department sent back (``returned``), each found by the server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.cases import services
from onegrid.cases.config import case_rules
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, post
from tests.integration.cases.city import SHIFT
from tests.integration.cases.helpers import new_case

pytestmark = pytest.mark.postgres


def test_a_returned_case_is_found_beyond_the_oldest_hundred_to_dispatch(
    client: TestClient, as_: dict[str, Headers], city: Database, clock: FixedClock
) -> None:
    rules = case_rules("Asia/Shanghai")
    for _ in range(110):
        newest = new_case(city, clock, rules)
        services.file_case(city, SHIFT, newest.id, clock=clock, rules=rules)
        clock.advance(timedelta(seconds=1))
    case = client.get(f"{BASE}/{newest.id}", headers=as_["disp"]).json()
    case = post(client, case, "dispatch", as_["disp"], department_code="sanitation").json()
    case = post(client, case, "return", as_["sanit"], reason="not ours: a road").json()
    assert (case["status"], case["returns"]) == ("to_dispatch", 1)

    def listed(**params: Any) -> tuple[list[int], str | None]:
        query = {"limit": 100, "sort": "created_at", **params}
        resp = client.get(BASE, params=query, headers=as_["disp"])
        assert resp.status_code == 200, resp.text
        page = resp.json()
        return [c["id"] for c in page["items"]], page["next_cursor"]

    # The oldest hundred to dispatch, as the workbench used to read and then filter them, miss it.
    oldest, more = listed(status="to_dispatch")
    assert newest.id not in oldest and more is not None
    assert listed(status="to_dispatch", returned="true") == ([newest.id], None)
    first_time, more = listed(status="to_dispatch", returned="false")
    assert newest.id not in first_time and len(first_time) == 100 and more is not None
    rest, _ = listed(status="to_dispatch", returned="false", cursor=more)
    assert len(rest) == 9 and newest.id not in rest
    # Alone, it names every case ever sent back, wherever it is now.
    case = post(client, case, "dispatch", as_["disp"], department_code="roads").json()
    assert case["status"] == "dispatched"
    assert listed(returned="true") == ([newest.id], None)
    assert listed(status="to_dispatch", returned="true") == ([], None)
    # Reach still applies: a department sees only its own cases (roads has it now).
    for who, expected in (("sanit", []), ("roads", [newest.id])):
        page = client.get(BASE, params={"returned": "true"}, headers=as_[who]).json()
        assert [c["id"] for c in page["items"]] == expected, who
    bad = client.get(BASE, params={"returned": "twice"}, headers=as_["disp"])
    assert bad.status_code == 422, bad.text
    assert bad.json()["errors"][0]["field"].endswith("returned")


def test_openapi_documents_the_returned_filter(client: TestClient) -> None:
    params = client.get("/openapi.json").json()["paths"][BASE]["get"]["parameters"]
    returned = next(p for p in params if p["name"] == "returned")
    assert "sent the case back" in returned["description"]
