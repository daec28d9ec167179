"""Hold requests (挂账申请) over the v1 case API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, create, post, rule_of
from tests.api.signins import sign_in

pytestmark = pytest.mark.postgres


def handling(client: TestClient, as_: dict[str, Headers]) -> dict[str, Any]:
    case = create(client, as_["insp"])
    post(client, case, "file", as_["leader"])
    post(client, case, "dispatch", as_["disp"], department_code="sanitation")
    accepted: dict[str, Any] = post(client, case, "accept", as_["sanit"]).json()
    assert accepted["status"] == "handling", accepted
    return accepted


def history(client: TestClient, case: dict[str, Any], who: Headers) -> list[dict[str, Any]]:
    return client.get(f"{BASE}/{case['id']}/history", headers=who).json()  # type: ignore[no-any-return]


def test_a_department_asks_and_the_shift_leader_holds(
    client: TestClient, as_: dict[str, Headers], clock: FixedClock
) -> None:
    case = handling(client, as_)
    deadline = datetime.fromisoformat(case["clock"]["deadline"])
    assert case["hold_pending"] is None
    assert {"hold_request", "hold", "hold_refuse"} <= set(case["allowed_actions"])
    other = post(client, case, "hold-request", as_["roads"], reason="not ours")
    assert other.status_code == 403, other.text
    resp = post(
        client,
        case,
        "hold-request",
        as_["sanit"],
        reason="冬季停工",
        resume_on="2026-04-01",
        expected_version=case["version"],
    )
    assert resp.status_code == 200, resp.text
    case = resp.json()
    assert case["status"] == "handling" and case["clock"]["paused"] is False
    assert case["hold_pending"] == {
        "requested_at": "2026-03-02T01:00:00Z",
        "resume_on": "2026-04-01",
    }
    again = post(client, case, "hold-request", as_["sanit"], reason="again")
    assert again.status_code == 422 and rule_of(again) == "one_pending_hold"
    # The department may ask, not decide.
    assert post(client, case, "hold", as_["sanit"], reason="mine").status_code == 403
    assert post(client, case, "hold-refuse", as_["sanit"], reason="mine").status_code == 403
    # A shift leader sees the request in the list, as it sees a pending extension.
    listed = client.get(BASE, params={"status": "handling"}, headers=as_["leader"]).json()
    [item] = [c for c in listed["items"] if c["id"] == case["id"]]
    assert item["hold_pending"] == case["hold_pending"]
    clock.advance(timedelta(hours=1))
    case = post(client, case, "hold", as_["leader"], expected_version=case["version"]).json()
    assert case["status"] == "on_hold" and case["hold_pending"] is None
    assert case["clock"]["paused"] is True
    clock.advance(timedelta(days=7))
    leader = sign_in(client, "leader")  # a week on, yesterday's sign-in has expired
    case = post(client, case, "resume", leader).json()
    assert datetime.fromisoformat(case["clock"]["deadline"]) == deadline + timedelta(days=7)
    steps = history(client, case, leader)[-3:]
    assert [(h["action"], h["reason"]) for h in steps] == [
        ("hold_request", "冬季停工"),
        ("hold", ""),
        ("resume", ""),
    ]
    assert steps[0]["details"] == {"resume_on": "2026-04-01"}
    assert steps[1]["details"] == {
        "request_approved": "2026-03-02T01:00:00+00:00",
        "resume_on": "2026-04-01",
    }


def test_refusal_lapse_and_bad_input_are_named(client: TestClient, as_: dict[str, Headers]) -> None:
    case = handling(client, as_)
    today = post(client, case, "hold-request", as_["sanit"], reason="x", resume_on="2026-03-02")
    assert today.status_code == 422
    assert (today.json()["errors"][0]["field"], rule_of(today)) == ("resume_on", "after_today")
    nonsense = post(client, case, "hold-request", as_["sanit"], reason="x", resume_on="spring")
    assert nonsense.status_code == 422, nonsense.text
    no_reason = post(client, case, "hold-request", as_["sanit"])
    assert no_reason.status_code == 422 and rule_of(no_reason) == "reason_required"
    none_waiting = post(client, case, "hold-refuse", as_["leader"], reason="no")
    assert none_waiting.status_code == 422 and rule_of(none_waiting) == "pending_hold"
    direct = post(client, case, "hold", as_["leader"])
    assert direct.status_code == 422 and rule_of(direct) == "reason_required"
    case = post(client, case, "hold-request", as_["sanit"], reason="winter").json()
    bare = post(client, case, "hold-refuse", as_["leader"])
    assert bare.status_code == 422 and rule_of(bare) == "reason_required"
    case = post(client, case, "hold-refuse", as_["leader"], reason="not seasonal").json()
    assert (case["status"], case["hold_pending"]) == ("handling", None)
    # Asked again, then the step ends: the request lapses with it.
    case = post(client, case, "hold-request", as_["sanit"], reason="winter, really").json()
    case = post(client, case, "return", as_["sanit"], reason="roads' work").json()
    assert (case["status"], case["hold_pending"]) == ("to_dispatch", None)
    last = history(client, case, as_["leader"])[-1]
    assert last["action"] == "return" and "hold_request_lapsed" in last["details"]


def test_openapi_documents_the_hold_request_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for action in ("hold-request", "hold", "hold-refuse"):
        assert f"{BASE}/{{case_id}}/{action}" in paths, action
    body = paths[f"{BASE}/{{case_id}}/hold-request"]["post"]["requestBody"]
    assert "HoldRequestIn" in str(body)
