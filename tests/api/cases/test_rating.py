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
    assert (got["case_id"], got["satisfaction"], got["resolved"]) == (
        case["id"],
        "basically_satisfied",
        True,
    )
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


def test_the_ratings_are_the_hotline_answers() -> None:
    assert set(get_args(Rating)) == {s.value for s in Satisfaction}
