"""The case aggregate's decisions: guards, the step clock, holds, extensions, escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onegrid.cases.config import case_rules
from onegrid.cases.domain.aggregate import (
    CaseState,
    Command,
    Context,
    Outcome,
    decide,
    escalation_due,
)
from onegrid.cases.domain.lights import Light, StepClock
from onegrid.cases.domain.states import Status, Step
from onegrid.cases.domain.timelimits import Limit, LimitUnit, StepLimits
from onegrid.cases.domain.workflow import Action
from onegrid.core.errors import InvalidInput

BJ = ZoneInfo("Asia/Shanghai")
CAL = case_rules("Asia/Shanghai").calendar
WH = LimitUnit.WORKING_HOURS
LIMITS = StepLimits("t", Limit(1, WH), Limit(4, WH), Limit(2, WH))
MONDAY_9 = datetime(2026, 3, 2, 9, tzinfo=BJ)


def ctx(at: datetime, **kw: object) -> Context:
    return Context(at, CAL, LIMITS, **kw)  # type: ignore[arg-type]


def run(state: CaseState, action: Action, at: datetime, **kw: object) -> Outcome:
    extra = {k: kw.pop(k) for k in ("max_extensions", "open_children") if k in kw}
    return decide(state, Command(action, **kw), ctx(at, **extra))  # type: ignore[arg-type]


def reported(at: datetime = MONDAY_9) -> CaseState:
    clock = StepClock.start(CAL, Step.DISPATCH, 1, LIMITS.dispatch, at)
    return CaseState(Status.TO_FILE, clock=clock, step_round=1)


def handling(at: datetime = MONDAY_9) -> CaseState:
    s = run(reported(at), Action.FILE, at).after
    s = run(s, Action.DISPATCH, at, department_code="roads").after
    return run(s, Action.ACCEPT, at).after


def test_the_happy_path_moves_the_clock_from_step_to_step() -> None:
    s = reported()
    assert s.clock is not None and s.clock.deadline == datetime(2026, 3, 2, 10, tzinfo=BJ)
    s = run(s, Action.FILE, MONDAY_9).after
    assert s.status is Status.TO_DISPATCH and s.filed_at == MONDAY_9
    dispatched = run(s, Action.DISPATCH, MONDAY_9 + timedelta(minutes=30), department_code="r")
    s = dispatched.after
    assert (s.status, s.department_code, s.step_round) == (Status.DISPATCHED, "r", 2)
    assert s.clock is not None and s.clock.step is Step.HANDLE
    assert s.clock.deadline == datetime(2026, 3, 2, 15, tzinfo=BJ)  # 09:30 + 4 h, lunch off
    assert not dispatched.step_ended_late
    s = run(s, Action.ACCEPT, MONDAY_9 + timedelta(hours=1)).after
    s = run(
        s, Action.REPORT_BACK, MONDAY_9 + timedelta(hours=2), reason="done", attachments=(1,)
    ).after
    assert s.status is Status.TO_CHECK and s.clock is not None and s.clock.step is Step.CHECK
    s = run(s, Action.CHECK, MONDAY_9 + timedelta(hours=3), passed=True).after
    assert s.status is Status.TO_CLOSE and s.clock is None and s.check_passed
    s = run(s, Action.CLOSE, MONDAY_9 + timedelta(hours=4)).after
    assert s.status is Status.CLOSED and s.version == 7 and s.overdue_steps == 0


def test_a_late_step_is_counted_once_when_it_ends() -> None:
    late = run(reported(), Action.FILE, MONDAY_9).after
    out = run(late, Action.DISPATCH, MONDAY_9 + timedelta(hours=2), department_code="r")
    assert out.step_ended_late and out.after.overdue_steps == 1
    marked = replace(late, overdue_marked=True, overdue_steps=1)
    out = run(marked, Action.DISPATCH, MONDAY_9 + timedelta(hours=2), department_code="r")
    assert out.after.overdue_steps == 1 and not out.after.overdue_marked


@pytest.mark.parametrize(
    ("action", "kw", "rule"),
    [
        (Action.HOLD, {}, "reason_required"),
        (Action.REPORT_BACK, {"reason": "done"}, "attachments_required"),
        (Action.EXTEND_REQUEST, {"reason": "rain"}, "required"),
        (Action.EXTEND_APPROVE, {}, "pending_extension"),
        (Action.HANDLE, {"reason": "x" * 2001}, "max_length"),
    ],
)
def test_guards_name_their_rule(action: Action, kw: dict[str, object], rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(handling(), action, MONDAY_9, **kw)
    assert caught.value.problems[0].rule == rule


def test_dispatch_needs_a_department_and_check_needs_a_verdict() -> None:
    filed = run(reported(), Action.FILE, MONDAY_9).after
    with pytest.raises(InvalidInput, match="department"):
        run(filed, Action.DISPATCH, MONDAY_9)
    to_check = replace(handling(), status=Status.TO_CHECK)
    with pytest.raises(InvalidInput, match="passed"):
        run(to_check, Action.CHECK, MONDAY_9)
    with pytest.raises(InvalidInput, match="failed check needs a reason"):
        run(to_check, Action.CHECK, MONDAY_9, passed=False)
    failed = run(to_check, Action.CHECK, MONDAY_9, passed=False, reason="still there").after
    with pytest.raises(InvalidInput, match="rework instead"):
        run(failed, Action.CLOSE, MONDAY_9)
    again = run(failed, Action.REWORK, MONDAY_9, reason="redo").after
    assert (again.status, again.reworks, again.check_passed) == (Status.HANDLING, 1, None)
    assert again.clock is not None and again.clock.step is Step.HANDLE


def test_a_hold_stops_the_clock_and_resuming_adds_its_length() -> None:
    s = handling()  # handle step: 09:00 + 4 h (lunch 12:00–13:30 off) → 14:30
    assert s.clock is not None and s.clock.deadline == datetime(2026, 3, 2, 14, 30, tzinfo=BJ)
    held = run(s, Action.HOLD, MONDAY_9 + timedelta(hours=1), reason="winter works").after
    assert held.status is Status.ON_HOLD
    assert held.clock is not None and held.clock.hold_started_at is not None
    # A week later the clock still shows 1 h used and the green light it had.
    week = MONDAY_9 + timedelta(days=7)
    reading = held.clock.read(CAL, week)
    assert reading.used == timedelta(hours=1) and reading.paused and reading.light is Light.GREEN
    resumed = run(held, Action.RESUME, week).after
    assert resumed.clock is not None and resumed.clock.hold_started_at is None
    # Three working hours were left: Monday 9 March 09:00 + 3 h = 12:00.
    assert resumed.clock.deadline == datetime(2026, 3, 9, 12, tzinfo=BJ)
    assert resumed.clock.held == timedelta(hours=7.5 * 5 - 1)


def test_extensions_add_what_was_granted_up_to_the_limit() -> None:
    s = handling()
    two_hours = Limit(2, WH)
    s = run(s, Action.EXTEND_REQUEST, MONDAY_9, reason="parts", extension=two_hours).after
    with pytest.raises(InvalidInput, match="already waiting"):
        run(s, Action.EXTEND_REQUEST, MONDAY_9, reason="more", extension=two_hours)
    s = run(s, Action.EXTEND_APPROVE, MONDAY_9, extension=Limit(1, WH)).after
    assert s.clock is not None and s.clock.deadline == datetime(2026, 3, 2, 15, 30, tzinfo=BJ)
    assert (s.extensions_granted, s.extension_pending) == (1, None)
    s = run(s, Action.EXTEND_REQUEST, MONDAY_9, reason="again", extension=two_hours).after
    s = run(s, Action.EXTEND_REFUSE, MONDAY_9, reason="no").after
    assert s.extensions_granted == 1 and s.extension_pending is None
    with pytest.raises(InvalidInput) as caught:
        run(s, Action.EXTEND_REQUEST, MONDAY_9, reason="x", extension=two_hours, max_extensions=1)
    assert caught.value.problems[0].rule == "max_extensions"


def test_lights_turn_at_80_and_100_percent() -> None:
    clock = handling().clock
    assert clock is not None  # 4 working hours from 09:00, due 14:30
    assert clock.read(CAL, MONDAY_9 + timedelta(hours=2)).light is Light.GREEN
    assert clock.warn_at == datetime(2026, 3, 2, 13, 42, tzinfo=BJ)  # 3.2 h after 09:00
    assert clock.read(CAL, clock.warn_at).light is Light.GREEN
    assert clock.read(CAL, clock.warn_at + timedelta(minutes=1)).light is Light.YELLOW
    assert clock.read(CAL, clock.deadline).light is Light.YELLOW
    late = clock.read(CAL, clock.deadline + timedelta(minutes=1))
    assert late.light is Light.RED and late.left < timedelta()


def test_escalation_goes_one_tier_up_then_another_and_stops_at_the_city() -> None:
    s = handling()  # 4 working hours, due 14:30
    assert escalation_due(s, CAL, datetime(2026, 3, 2, 14, 30, tzinfo=BJ)) is None
    assert escalation_due(s, CAL, datetime(2026, 3, 2, 14, 31, tzinfo=BJ)) == 1
    assert (
        escalation_due(replace(s, escalation_tier=1), CAL, datetime(2026, 3, 3, 9, 29, tzinfo=BJ))
        is None
    )
    # 4 more working hours overdue: Tuesday 09:30.
    assert (
        escalation_due(replace(s, escalation_tier=1), CAL, datetime(2026, 3, 3, 9, 31, tzinfo=BJ))
        == 2
    )
    assert (
        escalation_due(replace(s, escalation_tier=2), CAL, datetime(2026, 4, 3, tzinfo=BJ)) is None
    )


def test_a_held_step_is_not_escalated_and_a_split_closes_when_its_children_have() -> None:
    held = run(handling(), Action.HOLD, MONDAY_9, reason="season").after
    assert escalation_due(held, CAL, MONDAY_9 + timedelta(days=30)) is None
    split = CaseState(Status.SPLIT, department_code="lead")
    with pytest.raises(InvalidInput, match="still open"):
        run(split, Action.CLOSE, MONDAY_9, open_children=1)
    assert run(split, Action.CLOSE, MONDAY_9, open_children=0).after.status is Status.CLOSED


def test_return_goes_back_to_the_command_centre_and_restarts_the_dispatch_clock() -> None:
    back = run(handling(), Action.RETURN, MONDAY_9 + timedelta(hours=1), reason="not ours").after
    assert (back.status, back.department_code, back.returns) == (Status.TO_DISPATCH, None, 1)
    assert back.clock is not None and back.clock.step is Step.DISPATCH
    closed = replace(handling(), status=Status.CLOSED, clock=None)
    reopened = run(closed, Action.REOPEN, MONDAY_9, reason="not solved").after
    assert reopened.status is Status.HANDLING and reopened.reopens == 1
    with pytest.raises(InvalidInput, match="never handled"):
        run(replace(closed, department_code=None), Action.REOPEN, MONDAY_9, reason="x")


def test_a_pending_extension_lapses_when_its_step_ends_and_survives_a_hold() -> None:
    two_hours = Limit(2, WH)
    asked = run(handling(), Action.EXTEND_REQUEST, MONDAY_9, reason="parts", extension=two_hours)
    s = asked.after
    held = run(s, Action.HOLD, MONDAY_9, reason="season").after
    assert run(held, Action.RESUME, MONDAY_9).after.extension_pending == two_hours
    back = run(s, Action.RETURN, MONDAY_9, reason="not ours")
    assert back.after.extension_pending is None
    assert back.details["extension_lapsed"] == "2 working hours"
    # The next department asks for its own time; the old request cannot be granted to it.
    s = run(back.after, Action.DISPATCH, MONDAY_9, department_code="gardens").after
    s = run(s, Action.ACCEPT, MONDAY_9).after
    with pytest.raises(InvalidInput) as caught:
        run(s, Action.EXTEND_APPROVE, MONDAY_9)
    assert caught.value.problems[0].rule == "pending_extension"
    s = run(s, Action.EXTEND_REQUEST, MONDAY_9, reason="ours", extension=Limit(1, WH)).after
    assert s.extension_pending == Limit(1, WH)
    # A report back ends the step too, so a rework starts without the old request.
    done = run(s, Action.REPORT_BACK, MONDAY_9, reason="done", attachments=(1,)).after
    assert done.extension_pending is None
    assert run(done, Action.REWORK, MONDAY_9, reason="dirty").after.extension_pending is None


@pytest.mark.parametrize(
    ("status", "action", "kw"),
    [
        (Status.TO_DISPATCH, Action.DISPATCH, {"department_code": "gardens"}),
        (Status.CLOSED, Action.REOPEN, {"reason": "not solved"}),
    ],
)
def test_a_redispatch_or_a_reopen_never_carries_a_pending_extension(
    status: Status, action: Action, kw: dict[str, object]
) -> None:
    # Rows written before requests lapsed may still hold one.
    stale = replace(handling(), status=status, extension_pending=Limit(2, WH))
    out = run(stale, action, MONDAY_9, **kw)
    assert out.after.extension_pending is None and "extension_lapsed" in out.details
