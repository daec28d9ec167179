"""Hold requests (挂账申请): a department asks, a shift leader holds or refuses, a step's end
lets the request lapse."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from onegrid.cases.domain.aggregate import CaseState, HoldRequest
from onegrid.cases.domain.states import Status, Step
from onegrid.cases.domain.timelimits import Limit
from onegrid.cases.domain.workflow import Action
from onegrid.core.errors import InvalidInput
from tests.unit.cases.test_aggregate import CAL, MONDAY_9, WH, handling, run


def _rule(state: CaseState, action: Action, at: datetime = MONDAY_9, **kw: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        run(state, action, at, **kw)
    problem = caught.value.problems[0]
    return f"{problem.field}:{problem.rule}"


def asked(resume_on: date | None = None) -> CaseState:
    return run(
        handling(), Action.HOLD_REQUEST, MONDAY_9, reason="winter", resume_on=resume_on
    ).after


def test_a_request_keeps_the_case_handling_and_its_clock_running() -> None:
    before = handling()
    out = run(before, Action.HOLD_REQUEST, MONDAY_9, reason="winter", resume_on=date(2026, 4, 1))
    s = out.after
    assert s.status is Status.HANDLING and s.clock == before.clock
    assert s.hold_pending == HoldRequest(MONDAY_9, date(2026, 4, 1))
    assert out.details == {"reason": "winter", "resume_on": "2026-04-01"}
    assert run(handling(), Action.HOLD_REQUEST, MONDAY_9, reason="x").after.hold_pending == (
        HoldRequest(MONDAY_9, None)
    )


def test_a_request_needs_a_reason_a_later_resume_day_and_none_waiting() -> None:
    assert _rule(handling(), Action.HOLD_REQUEST) == "reason:reason_required"
    # Monday 2 March in Beijing: today is not "after today".
    today = date(2026, 3, 2)
    assert _rule(handling(), Action.HOLD_REQUEST, reason="x", resume_on=today) == (
        "resume_on:after_today"
    )
    # 20:00 UTC on Monday is 04:00 Tuesday in Beijing: the city's day counts, not UTC's.
    night = datetime(2026, 3, 2, 20, tzinfo=UTC)
    tuesday = date(2026, 3, 3)
    assert _rule(handling(), Action.HOLD_REQUEST, night, reason="x", resume_on=tuesday) == (
        "resume_on:after_today"
    )
    s = run(handling(), Action.HOLD_REQUEST, MONDAY_9, reason="x", resume_on=tuesday).after
    assert _rule(s, Action.HOLD_REQUEST, reason="again") == "action:one_pending_hold"
    assert _rule(handling(), Action.HOLD_REFUSE, reason="no") == "action:pending_hold"


def test_approval_holds_the_case_and_stops_the_clock_without_a_new_reason() -> None:
    at = MONDAY_9 + timedelta(hours=1)
    out = run(asked(date(2026, 4, 1)), Action.HOLD, at)
    held = out.after
    assert held.status is Status.ON_HOLD and held.hold_pending is None
    assert held.clock is not None and held.clock.hold_started_at == at
    assert out.details == {"request_approved": MONDAY_9.isoformat(), "resume_on": "2026-04-01"}
    # Resuming a week later pushes the deadline by the held week: hold time does not count.
    deadline = held.clock.deadline
    resumed = run(held, Action.RESUME, at + timedelta(days=7)).after
    assert resumed.status is Status.HANDLING and resumed.clock is not None
    assert resumed.clock.deadline == deadline + timedelta(days=7)
    assert resumed.clock.read(CAL, at + timedelta(days=7)).used == timedelta(hours=1)


def test_refusal_needs_a_reason_and_leaves_the_case_handling() -> None:
    assert _rule(asked(), Action.HOLD_REFUSE) == "reason:reason_required"
    out = run(asked(), Action.HOLD_REFUSE, MONDAY_9, reason="not seasonal work")
    assert out.after.status is Status.HANDLING and out.after.hold_pending is None
    assert out.details == {"request_refused": MONDAY_9.isoformat(), "reason": "not seasonal work"}
    # Refused, the department may ask again.
    again = run(out.after, Action.HOLD_REQUEST, MONDAY_9, reason="now it is").after
    assert again.hold_pending is not None


def test_a_direct_hold_still_needs_a_reason() -> None:
    assert _rule(handling(), Action.HOLD) == "reason:reason_required"
    out = run(handling(), Action.HOLD, MONDAY_9, reason="road works")
    assert out.after.status is Status.ON_HOLD and out.details == {"reason": "road works"}


@pytest.mark.parametrize(
    ("action", "kw", "status"),
    [
        (Action.RETURN, {"reason": "not ours"}, Status.TO_DISPATCH),
        (Action.REPORT_BACK, {"reason": "done", "attachments": (1,)}, Status.TO_CHECK),
        (Action.AUTO_CLOSE, {"reason": "cleared"}, Status.CLOSED),
    ],
)
def test_a_pending_request_lapses_when_its_step_ends(
    action: Action, kw: dict[str, object], status: Status
) -> None:
    out = run(asked(), action, MONDAY_9 + timedelta(minutes=5), **kw)
    assert out.after.status is status and out.after.hold_pending is None
    assert out.details["hold_request_lapsed"] == MONDAY_9.isoformat()


def test_a_redispatch_or_rework_never_carries_a_request_and_other_steps_keep_it() -> None:
    # Rows written by any path that missed the lapse: the next step still starts without it.
    stale = replace(asked(), status=Status.TO_DISPATCH)
    out = run(stale, Action.DISPATCH, MONDAY_9, department_code="gardens")
    assert out.after.hold_pending is None and "hold_request_lapsed" in out.details
    # A progress note or an extension does not end the step: the request keeps waiting.
    s = run(asked(), Action.HANDLE, MONDAY_9, reason="crew out").after
    s = run(s, Action.EXTEND_REQUEST, MONDAY_9, reason="parts", extension=Limit(1, WH)).after
    s = run(s, Action.EXTEND_APPROVE, MONDAY_9).after
    assert s.hold_pending == HoldRequest(MONDAY_9, None)
    assert s.clock is not None and s.clock.step is Step.HANDLE


def test_the_approved_resume_day_stays_on_the_case_while_it_is_held() -> None:
    held = run(asked(date(2026, 4, 1)), Action.HOLD, MONDAY_9 + timedelta(hours=1)).after
    assert held.hold_resume_on == date(2026, 4, 1)
    resumed = run(held, Action.RESUME, MONDAY_9 + timedelta(days=7)).after
    assert resumed.status is Status.HANDLING and resumed.hold_resume_on is None
    closed = run(held, Action.AUTO_CLOSE, MONDAY_9 + timedelta(days=7), reason="cleared").after
    assert closed.status is Status.CLOSED and closed.hold_resume_on is None
    # A request without a day, or a direct hold, parks the case with no day to resume.
    assert run(asked(), Action.HOLD, MONDAY_9).after.hold_resume_on is None
    direct = run(handling(), Action.HOLD, MONDAY_9, reason="road works").after
    assert direct.status is Status.ON_HOLD and direct.hold_resume_on is None


def test_a_request_whose_resume_day_has_come_is_not_approved() -> None:
    request = asked(date(2026, 3, 4))  # asked on Monday 2 March for Wednesday
    # Wednesday 4 March, 09:00 in Beijing: the day has come, parking the case makes no sense.
    wednesday = datetime(2026, 3, 4, 1, tzinfo=UTC)
    assert _rule(request, Action.HOLD, wednesday) == "resume_on:after_today"
    # The city's day counts: 20:00 UTC on Tuesday is already Wednesday in Beijing.
    assert _rule(request, Action.HOLD, datetime(2026, 3, 3, 20, tzinfo=UTC)) == (
        "resume_on:after_today"
    )
    # Refused instead, the department may ask again with a new day.
    refused = run(request, Action.HOLD_REFUSE, wednesday, reason="ask again").after
    assert refused.hold_pending is None
    tuesday = run(request, Action.HOLD, datetime(2026, 3, 3, 1, tzinfo=UTC)).after
    assert tuesday.status is Status.ON_HOLD and tuesday.hold_resume_on == date(2026, 3, 4)
