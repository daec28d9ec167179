"""Every case's route is explained, however it was dispatched; a returned case's old route no
longer stands."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from tests.api.cases.test_cases_api import create, post, rule_of
from tests.api.dispatch.conftest import Headers
from tests.api.dispatch.test_hotline_api import CALL

pytestmark = pytest.mark.postgres


def route_of(client: TestClient, case_id: int, who: Headers) -> dict[str, Any]:
    resp = client.get(f"/api/v1/hotline/cases/{case_id}/route", headers=who)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_a_case_the_command_centre_dispatched_explains_its_route(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    waiting = route_of(client, case["id"], as_["operator"])
    assert (waiting["department_code"], waiting["rule"]) == ("sanitation", "duty_owner")
    assert waiting["decided_by"] is None and waiting["recorded"] is False
    case = post(client, case, "file", as_["desk"]).json()
    sent = post(client, case, "dispatch", as_["desk"], department_code="roads")
    assert sent.status_code == 200, sent.text
    [*_, entry] = client.get(f"/api/v1/cases/{case['id']}/history", headers=as_["desk"]).json()
    route = route_of(client, case["id"], as_["operator"])
    assert (route["department_code"], route["rule"]) == ("roads", "chosen")
    assert route["suggested_department_code"] == "sanitation"
    assert "the rules suggested sanitation" in route["explanation"]
    assert (route["decided_by"], route["dispatched_at"]) == (entry["actor"], entry["at"])
    assert route["recorded"] is False


def test_the_suggested_unit_explains_itself_when_the_dispatcher_agrees(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    case = post(client, case, "file", as_["desk"]).json()
    assert post(client, case, "dispatch", as_["desk"]).status_code == 200
    route = route_of(client, case["id"], as_["operator"])
    assert (route["department_code"], route["rule"]) == ("sanitation", "duty_owner")
    assert route["decided_by"] is not None


def test_a_returned_case_is_not_sent_back_to_the_unit_that_returned_it(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    made = client.post("/api/v1/hotline/calls", json=CALL, headers=as_["desk"])
    assert made.status_code == 201, made.text
    case_id = made.json()["case_id"]
    assert route_of(client, case_id, as_["operator"])["recorded"] is True
    case = client.get(f"/api/v1/cases/{case_id}", headers=as_["sanit"]).json()
    back = post(client, case, "return", as_["sanit"], reason="not ours")
    assert back.status_code == 200, back.text
    # The stored route named the unit that returned the case: it is history now.
    route = route_of(client, case_id, as_["operator"])
    assert route["recorded"] is False and route["decided_by"] is None
    url = f"/api/v1/hotline/cases/{case_id}/dispatch"
    again = client.post(url, json={}, headers=as_["desk"])
    assert again.status_code == 422 and rule_of(again) == "required"
    assert "sanitation returned this case" in again.text
    assert (
        client.get(f"/api/v1/cases/{case_id}", headers=as_["desk"]).json()["version"]
        == (back.json()["version"])
    )
    chosen = client.post(url, json={"department_code": "core-office"}, headers=as_["desk"])
    assert chosen.status_code == 200, chosen.text
    route = route_of(client, case_id, as_["operator"])
    assert (route["department_code"], route["rule"], route["recorded"]) == (
        "core-office",
        "chosen",
        True,
    )


def _returned(client: TestClient, as_: dict[str, Headers], case_id: int) -> dict[str, Any]:
    case = client.get(f"/api/v1/cases/{case_id}", headers=as_["sanit"]).json()
    back = post(client, case, "return", as_["sanit"], reason="not ours")
    assert back.status_code == 200, back.text
    return back.json()  # type: ignore[no-any-return]


def test_a_returned_route_does_not_stand_again_when_the_case_goes_back_to_its_unit(
    client: TestClient, as_: dict[str, Headers], clock: FixedClock
) -> None:
    made = client.post("/api/v1/hotline/calls", json=CALL, headers=as_["desk"])
    case_id = made.json()["case_id"]
    clock.advance(timedelta(minutes=5))
    case = _returned(client, as_, case_id)
    clock.advance(timedelta(minutes=10))  # within the sign-ins' life
    again = post(client, case, "dispatch", as_["desk"], department_code="sanitation")
    assert again.status_code == 200, again.text
    route = route_of(client, case_id, as_["operator"])
    # The desk's route was the first dispatch's: this one the command centre made.
    assert route["recorded"] is False and route["dispatched_at"] == again.json()["dispatched_at"]
    contact = client.post(f"/api/v1/hotline/cases/{case_id}/contact", headers=as_["sanit"])
    assert contact.status_code == 404  # not counted against the first dispatch's limit


def test_a_route_decided_but_not_dispatched_gives_way_to_the_command_centres_dispatch(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    made = client.post(
        "/api/v1/hotline/calls", json={**CALL, "dispatch_now": False}, headers=as_["desk"]
    )
    assert made.status_code == 201, made.text
    case_id = made.json()["case_id"]
    assert route_of(client, case_id, as_["operator"])["recorded"] is True
    case = client.get(f"/api/v1/cases/{case_id}", headers=as_["desk"]).json()
    if case["status"] == "to_file":
        case = post(client, case, "file", as_["desk"]).json()
    sent = post(client, case, "dispatch", as_["desk"], department_code="roads")
    assert sent.status_code == 200, sent.text
    route = route_of(client, case_id, as_["operator"])
    assert (route["department_code"], route["recorded"]) == ("roads", False)


def test_a_split_case_and_its_children_explain_their_units(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    case = post(client, case, "file", as_["desk"]).json()
    parts = [
        {"department_code": "roads", "description": "修路"},
        {"department_code": "core-office", "description": "清运"},
    ]
    split = post(
        client, case, "split", as_["desk"], parts=parts, lead_department_code="roads", reason="两家"
    )
    assert split.status_code == 201, split.text
    parent = route_of(client, case["id"], as_["operator"])
    assert parent["department_code"] == "roads" and parent["decided_by"] is not None
    for child in split.json()["children"]:
        route = route_of(client, child["id"], as_["operator"])
        assert route["department_code"] == child["department_code"]
        assert route["decided_by"] is not None  # not "decided by nobody"


def test_only_who_may_dispatch_hears_why_a_dispatch_is_refused(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = create(client, as_["insp"])
    case = post(client, case, "file", as_["desk"]).json()
    sent = post(client, case, "dispatch", as_["desk"])  # the rules' unit: sanitation
    assert sent.status_code == 200, sent.text
    _returned(client, as_, case["id"])
    url = f"/api/v1/hotline/cases/{case['id']}/dispatch"
    for who in ("analyst", "insp", "sanit"):
        refused = client.post(url, json={}, headers=as_[who])
        assert refused.status_code == 403, (who, refused.text)
        assert "returned" not in refused.text
    # A dispatcher is told, though the case went out through the case workflow, not the desk.
    told = client.post(url, json={}, headers=as_["desk"])
    assert told.status_code == 422 and "sanitation returned this case" in told.text
    suggestion = route_of(client, case["id"], as_["operator"])
    assert "returned this case as not its own" in suggestion["explanation"]
