"""Hold requests (挂账申请) through the services, on SQLite and PostgreSQL: the department asks,
the shift leader holds (approves) or refuses, and a request lapses when its step ends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.history import history_of
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.common import load_case
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, PermissionDenied
from onegrid.db.session import Database
from tests.integration.cases.city import DISPATCHER, ROADS, SANITATION, SHIFT
from tests.integration.cases.helpers import to_handling

pytestmark = pytest.mark.postgres


def _stored(db: Database, case_id: int) -> CaseRecord:
    with db.reader() as s:
        return load_case(s, case_id)


def _last(db: Database, case_id: int) -> tuple[str, str, dict[str, object]]:
    with db.reader() as s:
        entry = history_of(s, case_id)[-1]
    return entry.action, entry.reason, entry.details


def test_the_department_asks_and_the_shift_leader_holds_without_counting_the_time(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    deadline = rec.step_deadline
    assert deadline is not None
    asked_at = clock.now()
    rec = services.request_hold(
        city,
        SANITATION,
        rec.id,
        clock=clock,
        rules=rules,
        reason="冬季停工 (planting waits for spring)",
        resume_on=date(2026, 4, 1),
        expected_version=rec.version,
    )
    assert rec.status == "handling" and rec.step_deadline == deadline  # the clock runs on
    assert (rec.hold_requested_at, rec.hold_resume_on) == (asked_at, date(2026, 4, 1))
    stored = _stored(city, rec.id)
    assert (stored.hold_requested_at, stored.hold_resume_on) == (asked_at, date(2026, 4, 1))
    assert _last(city, rec.id) == (
        "hold_request",
        "冬季停工 (planting waits for spring)",
        {"resume_on": "2026-04-01"},
    )
    # The department may ask, not decide.
    for decide in (services.hold_case, services.refuse_hold):
        with pytest.raises(PermissionDenied):
            decide(city, SANITATION, rec.id, clock=clock, rules=rules, reason="self-approved")
    clock.advance(timedelta(hours=1))
    rec = services.hold_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.status == "on_hold" and rec.hold_requested_at is None
    assert rec.step_hold_started_at == clock.now()
    assert _stored(city, rec.id).hold_requested_at is None
    assert _last(city, rec.id) == (
        "hold",
        "",
        {"request_approved": asked_at.isoformat(), "resume_on": "2026-04-01"},
    )
    clock.advance(timedelta(days=7))
    rec = services.resume_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert rec.status == "handling"
    assert rec.step_deadline == deadline + timedelta(days=7)  # the held week does not count


def test_a_refusal_keeps_the_case_handling_and_only_one_request_waits(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    asked_at = clock.now()
    rec = services.request_hold(city, SANITATION, rec.id, clock=clock, rules=rules, reason="x")
    with pytest.raises(InvalidInput) as caught:
        services.request_hold(city, SANITATION, rec.id, clock=clock, rules=rules, reason="again")
    assert caught.value.problems[0].rule == "one_pending_hold"
    assert _stored(city, rec.id).version == rec.version  # nothing written
    with pytest.raises(InvalidInput) as caught:
        services.refuse_hold(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert caught.value.problems[0].rule == "reason_required"
    rec = services.refuse_hold(
        city, SHIFT, rec.id, clock=clock, rules=rules, reason="not seasonal work"
    )
    assert rec.status == "handling" and rec.hold_requested_at is None
    assert _last(city, rec.id) == (
        "hold_refuse",
        "not seasonal work",
        {"request_refused": asked_at.isoformat()},
    )
    with pytest.raises(InvalidInput) as caught:
        services.refuse_hold(city, SHIFT, rec.id, clock=clock, rules=rules, reason="twice")
    assert caught.value.problems[0].rule == "pending_hold"
    # Refused, the department may ask again.
    rec = services.request_hold(city, SANITATION, rec.id, clock=clock, rules=rules, reason="y")
    assert rec.hold_requested_at == clock.now()


def test_a_return_lets_the_request_lapse_for_the_next_department(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    asked_at = clock.now()
    services.request_hold(city, SANITATION, rec.id, clock=clock, rules=rules, reason="winter")
    rec = services.return_case(city, SANITATION, rec.id, clock=clock, rules=rules, reason="roads")
    assert rec.hold_requested_at is None and _stored(city, rec.id).hold_requested_at is None
    action, _, details = _last(city, rec.id)
    assert action == "return" and details["hold_request_lapsed"] == asked_at.isoformat()
    services.dispatch_case(
        city, DISPATCHER, rec.id, clock=clock, rules=rules, department_code="roads"
    )
    rec = services.accept_case(city, ROADS, rec.id, clock=clock, rules=rules)
    # Sanitation's request is gone: nothing to refuse, a hold is a direct one needing a reason.
    with pytest.raises(InvalidInput) as caught:
        services.refuse_hold(city, SHIFT, rec.id, clock=clock, rules=rules, reason="no")
    assert caught.value.problems[0].rule == "pending_hold"
    with pytest.raises(InvalidInput) as caught:
        services.hold_case(city, SHIFT, rec.id, clock=clock, rules=rules)
    assert caught.value.problems[0].rule == "reason_required"
    rec = services.request_hold(city, ROADS, rec.id, clock=clock, rules=rules, reason="ours")
    assert rec.hold_requested_at == clock.now()


def test_a_direct_hold_still_works_and_another_department_may_not_ask(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    rec = to_handling(city, clock, rules)
    with pytest.raises(PermissionDenied):
        services.request_hold(city, ROADS, rec.id, clock=clock, rules=rules, reason="not ours")
    assert _stored(city, rec.id).version == rec.version
    with pytest.raises(InvalidInput) as caught:
        services.request_hold(
            city,
            SANITATION,
            rec.id,
            clock=clock,
            rules=rules,
            reason="x",
            resume_on=date(2026, 3, 2),  # the fixed clock's day in Beijing
        )
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == (
        "resume_on",
        "after_today",
    )
    rec = services.hold_case(city, SHIFT, rec.id, clock=clock, rules=rules, reason="road works")
    assert rec.status == "on_hold" and rec.hold_requested_at is None
    assert _last(city, rec.id) == ("hold", "road works", {})
