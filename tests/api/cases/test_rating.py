"""The reporter rates a closed case over HTTP, once, and the rating counts in the hotline rates."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from onegrid.cases.schemas import Rating
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.hotline.domain import Satisfaction
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.cases.conftest import PASSWORD, Headers
from tests.api.cases.test_cases_api import BASE, create, png, post, rule_of

pytestmark = pytest.mark.postgres


def _closed(client: TestClient, as_: dict[str, Headers], case: dict[str, Any]) -> dict[str, Any]:
    """A citizen's report through every step to closed, as each role does it."""
    for action, who, extra in [
        ("verify", "insp", {}),
        ("file", "leader", {}),
        ("dispatch", "disp", {}),
        ("accept", "sanit", {}),
    ]:
        resp = post(client, case, action, as_[who], **extra)
        assert resp.status_code == 200, resp.text
        case = resp.json()
    return _finished(client, as_, case)


def _finished(client: TestClient, as_: dict[str, Headers], case: dict[str, Any]) -> dict[str, Any]:
    """A case the unit is handling, reported back with a photo, checked and closed."""
    up = client.post(
        f"{BASE}/{case['id']}/attachments",
        headers=as_["sanit"],
        files={"file": ("after.png", png(), "image/png")},
    )
    assert up.status_code == 201, up.text
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("report-back", "sanit", {"reason": "cleared", "attachments": [up.json()["id"]]}),
        ("check", "insp", {"passed": True}),
        ("close", "leader", {}),
    ]
    for action, who, extra in steps:
        resp = post(client, case, action, as_[who], **extra)
        assert resp.status_code == 200, resp.text
        case = resp.json()
    assert case["status"] == "closed"
    return case


def _rate(client: TestClient, case: dict[str, Any], who: Headers | None, **kw: Any) -> Any:
    payload = {"satisfaction": "satisfied", "resolved": True, **kw}
    return client.post(f"{BASE}/{case['id']}/rating", json=payload, headers=who or {})


def test_the_reporter_rates_a_closed_case_once(
    client: TestClient, as_: dict[str, Headers], city: Database, clock: FixedClock
) -> None:
    citizen = as_["citizen"]
    case = create(client, citizen, channel="web_app")
    early = _rate(client, case, citizen)
    assert early.status_code == 422 and rule_of(early) == "case_closed"
    case = _closed(client, as_, case)

    assert _rate(client, case, None).status_code == 401
    for staff in ("leader", "hotline", "insp"):  # not the reporter
        assert _rate(client, case, as_[staff]).status_code == 403, staff
    with city.unit_of_work() as s:
        people.create_user(
            s, "neighbour", PASSWORD, clock, grants=[Grant(Role.CITIZEN, Scope.city())]
        )
    token = client.post("/api/v1/auth/token", data={"username": "neighbour", "password": PASSWORD})
    neighbour = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert _rate(client, case, neighbour).status_code == 403  # a citizen, not this reporter

    bad = _rate(client, case, citizen, satisfaction="great")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "satisfaction"
    first = _rate(client, case, citizen, satisfaction="basically_satisfied", note="慢了一点")
    assert first.status_code == 201, first.text
    got = first.json()
    assert (got["case_id"], got["satisfaction"], got["resolved"], got["reopened"]) == (
        case["id"],
        "basically_satisfied",
        True,
        False,
    )
    after = client.get(f"{BASE}/{case['id']}", headers=citizen).json()
    assert (after["status"], after["version"]) == ("closed", case["version"])
    again = _rate(client, case, citizen, satisfaction="dissatisfied")
    assert again.status_code == 422 and rule_of(again) == "rated_once"

    # The same record as the desk's callback answers: the unit's rates count it.
    rates = client.get("/api/v1/hotline/rates?month=2026-03", headers=as_["analyst"])
    assert rates.status_code == 200, rates.text
    [unit] = rates.json()["units"]
    weight = rates.json()["basically_satisfied_weight"]
    assert (unit["unit"], unit["callbacks"], unit["resolved"]) == ("sanitation", 1, 1)
    assert (unit["satisfied"], unit["basically_satisfied"]) == (0, 1)
    assert unit["satisfaction_rate"] == pytest.approx(weight)


def _history(client: TestClient, case: dict[str, Any], who: Headers) -> list[dict[str, Any]]:
    resp = client.get(f"{BASE}/{case['id']}/history", headers=who)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_not_resolved_reopens_the_case_for_the_reporter(
    client: TestClient, as_: dict[str, Headers], city: Database, clock: FixedClock
) -> None:
    """A citizen may not reopen a case by permission; their own "not resolved" reopens it
    anyway, done by the system for them, and the case is closed again only after new work."""
    citizen = as_["citizen"]
    case = _closed(client, as_, create(client, citizen, channel="web_app"))
    assert post(client, case, "reopen", citizen, reason="还是脏").status_code == 403

    rated = _rate(client, case, citizen, resolved=False, satisfaction="dissatisfied", note="还是脏")
    assert rated.status_code == 201, rated.text
    assert (rated.json()["resolved"], rated.json()["reopened"]) == (False, True)
    case = client.get(f"{BASE}/{case['id']}", headers=citizen).json()
    assert (case["status"], case["reopens"], case["department_code"]) == (
        "handling",
        1,
        "sanitation",
    )
    last = _history(client, case, as_["leader"])[-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (
        "reopen",
        "closed",
        "handling",
    )
    assert (last["actor"], last["role"]) == ("system:requester", None)
    assert last["details"]["answer"] == "rating"
    assert last["details"]["recorded_by"].startswith("user:")
    assert "还是脏" in last["reason"]
    closing = post(client, case, "close", as_["leader"])
    assert closing.status_code == 422  # not without a new report back and check

    # Rated once per case (the rule stands): after the new work, the rating is refused.
    case = _finished(client, as_, case)
    again = _rate(client, case, citizen)
    assert again.status_code == 422 and rule_of(again) == "rated_once"

    rates = client.get("/api/v1/hotline/rates?month=2026-03", headers=as_["analyst"])
    [unit] = rates.json()["units"]
    assert (unit["callbacks"], unit["resolved"], unit["satisfied"]) == (1, 0, 0)


def test_the_ratings_are_the_hotline_answers() -> None:
    assert set(get_args(Rating)) == {s.value for s in Satisfaction}
