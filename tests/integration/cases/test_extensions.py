"""Extensions end to end: the stored deadline of an emergency step after a grant in working days,
the longest extension, and a grant with nothing to decide, through the services and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.states import Urgency
from onegrid.cases.domain.timelimits import Limit, LimitUnit
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from onegrid.people.passwords import use_hasher
from tests.api.signins import PASSWORD, SignIns
from tests.integration.cases.city import SANITATION, SHIFT
from tests.integration.cases.helpers import to_handling

pytestmark = pytest.mark.postgres
BJ = ZoneInfo("Asia/Shanghai")
TWO_DAYS = Limit(2, LimitUnit.WORKING_DAYS)


def bj(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BJ)  # type: ignore[misc]


def friday_emergency(city: Database, clock: FixedClock, rules: CaseRules) -> int:
    """A critical case handled from Friday 14:00: 2 natural hours, due 16:00."""
    clock.set(bj(2026, 3, 6, 14, 0).astimezone(UTC))
    rec = to_handling(city, clock, rules, urgency=Urgency.CRITICAL)
    assert rec.step_deadline == bj(2026, 3, 6, 16, 0)
    return rec.id


def test_an_emergency_granted_two_working_days_is_due_two_working_days_later(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    case_id = friday_emergency(city, clock, rules)
    clock.advance(timedelta(hours=1))
    services.request_extension(
        city, SANITATION, case_id, clock=clock, rules=rules, extension=TWO_DAYS, reason="parts"
    )
    rec = services.approve_extension(city, SHIFT, case_id, clock=clock, rules=rules)
    # Not Saturday 07:00 (15 wall hours on): Monday and Tuesday's working hours, to 16:00.
    assert rec.step_deadline == bj(2026, 3, 10, 16, 0)


def test_a_working_time_step_granted_two_working_days_keeps_its_rule(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    clock.set(bj(2026, 3, 6, 14, 0).astimezone(UTC))
    rec = to_handling(city, clock, rules)  # E0102: 4 working hours, due Monday 09:00
    assert rec.step_deadline == bj(2026, 3, 9, 9, 0)
    services.request_extension(
        city, SANITATION, rec.id, clock=clock, rules=rules, extension=TWO_DAYS, reason="parts"
    )
    rec = services.approve_extension(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.step_deadline == bj(2026, 3, 11, 9, 0)  # the weekend does not count


def test_a_request_longer_than_thirty_working_days_is_refused(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    with pytest.raises(InvalidInput) as caught:
        services.request_extension(
            city,
            SANITATION,
            rec.id,
            clock=clock,
            rules=rules,
            extension=Limit(31, LimitUnit.WORKING_DAYS),
            reason="a long wait",
        )
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == (
        "amount",
        "max_extension_length",
    )


USERS = {
    "leader": Grant(Role.SHIFT_LEADER, Scope.city()),
    "sanit": Grant(Role.DEPARTMENT_HANDLER, Scope.department("sanitation")),
}


@pytest.fixture
def as_(client: TestClient, city: Database, clock: FixedClock) -> Iterator[SignIns]:
    previous = use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with city.unit_of_work() as s:
        for name, grant in USERS.items():
            codes = [grant.scope.code] if grant.role is Role.DEPARTMENT_HANDLER else []
            people.create_user(s, name, PASSWORD, clock, grants=[grant], department_codes=codes)
    yield SignIns(client)
    use_hasher(previous)


def post(client: TestClient, case_id: int, action: str, who: dict[str, str], **kw: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/{action}", json=kw, headers=who)


def test_over_http_the_longest_extension_and_a_grant_with_nothing_pending_are_422s(
    client: TestClient, city: Database, clock: FixedClock, rules: CaseRules, as_: SignIns
) -> None:
    rec = to_handling(city, clock, rules)
    resp = post(client, rec.id, "extend-approve", as_["leader"], expected_version=rec.version)
    assert resp.status_code == 422
    assert resp.json()["errors"][0] == {
        "field": "action",
        "rule": "pending_extension",
        "message": "there is no extension request to decide",
    }
    ask = {"unit": "working_days", "reason": "parts on order"}
    resp = post(client, rec.id, "extend-request", as_["sanit"], amount=1000, **ask)
    assert resp.status_code == 422
    error = resp.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("amount", "max_extension_length")
    assert error["message"].startswith("one extension is at most 30 working days")
    resp = post(client, rec.id, "extend-request", as_["sanit"], amount=30, **ask)
    assert resp.status_code == 200, resp.text
    resp = post(client, rec.id, "extend-approve", as_["leader"], amount=31, unit="working_days")
    assert resp.status_code == 422 and resp.json()["errors"][0]["rule"] == "max_extension_length"


def test_a_grant_of_an_amount_names_its_unit(
    client: TestClient, city: Database, clock: FixedClock, rules: CaseRules, as_: SignIns
) -> None:
    rec = to_handling(city, clock, rules)
    ask = {"amount": 2, "unit": "working_days", "reason": "parts on order"}
    assert post(client, rec.id, "extend-request", as_["sanit"], **ask).status_code == 200
    bare = post(client, rec.id, "extend-approve", as_["leader"], amount=2)
    assert bare.status_code == 422
    assert (bare.json()["errors"][0]["field"], bare.json()["errors"][0]["rule"]) == (
        "unit",
        "required",
    )
    granted = post(client, rec.id, "extend-approve", as_["leader"], amount=1, unit="working_days")
    assert granted.status_code == 200, granted.text
    assert granted.json()["extensions_granted"] == 1
