"""Hold requests (挂账申请) over the v1 case API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.cases.config import case_rules
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, create, png, post, rule_of
from tests.api.signins import sign_in
from tests.integration.cases.helpers import to_handling

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


def test_the_queues_find_a_request_on_any_handling_case_not_only_the_oldest_hundred(
    client: TestClient, as_: dict[str, Headers], city: Database, clock: FixedClock
) -> None:
    rules = case_rules("Asia/Shanghai")
    for _ in range(120):
        newest = to_handling(city, clock, rules)
        clock.advance(timedelta(seconds=1))
    case = client.get(f"{BASE}/{newest.id}", headers=as_["leader"]).json()
    case = post(client, case, "hold-request", as_["sanit"], reason="winter").json()
    case = post(client, case, "extend-request", as_["sanit"], reason="parts", amount=2,
                unit="working_days").json()  # fmt: skip
    assert case["hold_pending"] and case["extension_pending"] == "2 working_days"

    def listed(**params: Any) -> list[int]:
        query = {"limit": 100, "sort": "created_at", **params}
        resp = client.get(BASE, params=query, headers=as_["leader"])
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    # The oldest hundred handling cases, as the workbench used to read them, miss it.
    assert newest.id not in listed(status="handling")
    assert listed(hold_pending="true") == [newest.id]
    assert listed(extension_pending="true") == [newest.id]
    assert listed(status="handling", hold_pending="true", extension_pending="true") == [newest.id]
    assert newest.id not in listed(hold_pending="false", sort="-created_at")
    assert len(listed(hold_pending="false", status="handling", limit=200)) == 119
    # Reach still applies: another department's handler sees none of it.
    roads = client.get(BASE, params={"hold_pending": "true"}, headers=as_["roads"]).json()
    assert roads["items"] == []
    bad = client.get(BASE, params={"hold_pending": "perhaps"}, headers=as_["leader"])
    assert bad.status_code == 422, bad.text


def test_a_request_keeps_its_attachments_in_the_history(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case = handling(client, as_)
    other = handling(client, as_)

    def upload(to: dict[str, Any]) -> int:
        up = client.post(
            f"{BASE}/{to['id']}/attachments",
            headers=as_["sanit"],
            files={"file": ("frozen.png", png(), "image/png")},
        )
        assert up.status_code == 201, up.text
        return int(up.json()["id"])

    mine, theirs = upload(case), upload(other)
    for action, extra in (
        ("hold-request", {"resume_on": "2026-04-01"}),
        ("extend-request", {"amount": 1, "unit": "working_days"}),
    ):
        foreign = post(client, case, action, as_["sanit"], reason="x", attachments=[theirs],
                       **extra)  # fmt: skip
        assert foreign.status_code == 422, foreign.text
        assert (foreign.json()["errors"][0]["field"], rule_of(foreign)) == (
            "attachments",
            "attachment_of_case",
        )
        resp = post(client, case, action, as_["sanit"], reason="frozen", attachments=[mine],
                    **extra)  # fmt: skip
        assert resp.status_code == 200, resp.text
        last = history(client, case, as_["leader"])[-1]
        assert (last["action"], last["attachment_ids"]) == (action.replace("-", "_"), [mine])


def test_a_held_case_shows_the_day_to_resume_until_it_resumes(
    client: TestClient, as_: dict[str, Headers], clock: FixedClock
) -> None:
    case = handling(client, as_)
    assert case["hold_resume_on"] is None
    case = post(client, case, "hold-request", as_["sanit"], reason="冬季停工",
                resume_on="2026-03-04").json()  # fmt: skip
    assert case["hold_resume_on"] is None  # asked, not yet on hold: see hold_pending
    clock.advance(timedelta(days=1))  # Tuesday 3 March
    leader = sign_in(client, "leader")  # yesterday's sign-in has expired
    held = post(client, case, "hold", leader).json()
    assert (held["status"], held["hold_resume_on"]) == ("on_hold", "2026-03-04")
    listed = client.get(BASE, params={"status": "on_hold"}, headers=leader).json()
    assert [c["hold_resume_on"] for c in listed["items"]] == ["2026-03-04"]
    resumed = post(client, held, "resume", leader).json()
    assert (resumed["status"], resumed["hold_resume_on"]) == ("handling", None)

    # A request whose day has come by the time it is decided is refused, named, unwritten.
    case = post(client, resumed, "hold-request", sign_in(client, "sanit"), reason="again",
                resume_on="2026-03-04").json()  # fmt: skip
    assert case["hold_pending"]["resume_on"] == "2026-03-04"
    clock.advance(timedelta(days=1))  # Wednesday 4 March: the day has come
    leader = sign_in(client, "leader")
    late = post(client, case, "hold", leader)
    assert late.status_code == 422, late.text
    assert (late.json()["errors"][0]["field"], rule_of(late)) == ("resume_on", "after_today")
    unchanged = client.get(f"{BASE}/{case['id']}", headers=leader).json()
    assert (unchanged["status"], unchanged["version"]) == ("handling", case["version"])
    assert unchanged["hold_pending"]["resume_on"] == "2026-03-04"
