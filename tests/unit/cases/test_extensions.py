"""Extensions: how far an approved grant moves a step's deadline, and how long one may be."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from onegrid.cases.config import case_rules
from onegrid.cases.domain.aggregate import CaseState, Command, Context, decide
from onegrid.cases.domain.lights import Light, StepClock
from onegrid.cases.domain.states import Status, Step
from onegrid.cases.domain.timelimits import MAX_EXTENSION_DAYS, Limit, LimitUnit, StepLimits
from onegrid.cases.domain.workflow import Action
from onegrid.core.errors import InvalidInput

BJ = ZoneInfo("Asia/Shanghai")
CAL = case_rules("Asia/Shanghai").calendar  # China's 2025–2026 holidays and make-up days
WD, WH, NH = LimitUnit.WORKING_DAYS, LimitUnit.WORKING_HOURS, LimitUnit.NATURAL_HOURS
TWO_DAYS = Limit(2, WD)
LIMITS = StepLimits("t", Limit(1, WH), Limit(4, WH), Limit(2, WH))


def bj(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BJ)  # type: ignore[misc]


def handling(limit: Limit, started: datetime) -> CaseState:
    """A case whose department is handling it, its step started at ``started``."""
    clock = StepClock.start(CAL, Step.HANDLE, 2, limit, started)
    return CaseState(Status.HANDLING, department_code="heating", clock=clock, step_round=2)


def approve(
    state: CaseState, granted: Limit, at: datetime, asked: Limit | None = None
) -> CaseState:
    state = replace(state, extension_pending=asked or granted)
    cmd = Command(Action.EXTEND_APPROVE, extension=granted)
    return decide(state, cmd, Context(at, CAL, LIMITS)).after


def deadline_of(state: CaseState) -> datetime:
    assert state.clock is not None
    return state.clock.deadline.astimezone(BJ)


def test_working_days_granted_on_a_natural_hours_step_move_it_by_working_days() -> None:
    # QA's heating case: 24 natural hours from Sunday 12:38, due Monday 30 Nov 12:38, granted
    # "2 working days" when already late. Two working days after Monday 12:38 (lunch until
    # 13:30) end on Wednesday 12:00, not 15 wall hours later (Tuesday 03:38).
    late = handling(Limit(24, NH), bj(2026, 11, 29, 12, 38))
    assert deadline_of(late) == bj(2026, 11, 30, 12, 38)
    at = bj(2026, 12, 1, 4, 0)
    after = approve(late, TWO_DAYS, at)
    assert deadline_of(after) == bj(2026, 12, 2, 12, 0)
    assert after.clock is not None and after.clock.light(at) is not Light.RED
    assert after.clock.natural  # the step still counts day and night


def test_a_natural_hours_step_granted_working_days_skips_the_weekend() -> None:
    friday = handling(Limit(2, NH), bj(2026, 3, 6, 14, 0))
    assert deadline_of(friday) == bj(2026, 3, 6, 16, 0)
    after = approve(friday, TWO_DAYS, bj(2026, 3, 6, 15, 0))
    # 1.5 h left on Friday, 7.5 h on Monday, 6 h on Tuesday: Tuesday 16:00.
    assert deadline_of(after) == bj(2026, 3, 10, 16, 0)


def test_a_natural_hours_step_granted_working_days_skips_a_holiday() -> None:
    # National Day 2026: 1–7 October off, Thursday 8 October a working day again.
    before = handling(Limit(2, NH), bj(2026, 9, 30, 14, 0))
    after = approve(before, TWO_DAYS, bj(2026, 9, 30, 15, 0))
    assert deadline_of(after) == bj(2026, 10, 9, 16, 0)


def test_working_hours_granted_on_a_natural_hours_step_count_working_hours() -> None:
    friday = handling(Limit(2, NH), bj(2026, 3, 6, 14, 0))
    after = approve(friday, Limit(3, WH), bj(2026, 3, 6, 15, 0))
    assert deadline_of(after) == bj(2026, 3, 9, 10, 0)  # 1.5 h Friday, 1.5 h Monday


def test_natural_hours_granted_on_a_natural_hours_step_are_wall_time() -> None:
    friday = handling(Limit(2, NH), bj(2026, 3, 6, 14, 0))
    after = approve(friday, Limit(10, NH), bj(2026, 3, 6, 15, 0))
    assert deadline_of(after) == bj(2026, 3, 7, 2, 0)


def test_working_days_granted_on_a_working_time_step_are_working_time() -> None:
    step = handling(Limit(3, WH), bj(2026, 3, 6, 13, 0))  # Friday 13:30 + 3 h of work
    assert deadline_of(step) == bj(2026, 3, 6, 16, 30)
    after = approve(step, TWO_DAYS, bj(2026, 3, 6, 15, 0))
    assert deadline_of(after) == bj(2026, 3, 10, 16, 30)  # the weekend does not count
    before_holiday = handling(Limit(3, WH), bj(2026, 9, 30, 13, 0))
    after = approve(before_holiday, TWO_DAYS, bj(2026, 9, 30, 15, 0))
    assert deadline_of(after) == bj(2026, 10, 9, 16, 30)


def test_the_light_after_a_grant_on_a_natural_step_reads_the_new_deadline() -> None:
    friday = handling(Limit(2, NH), bj(2026, 3, 6, 14, 0))
    after = approve(friday, TWO_DAYS, bj(2026, 3, 6, 15, 0))
    assert after.clock is not None
    assert after.clock.light(bj(2026, 3, 9, 12, 0)) is not Light.RED
    assert after.clock.light(bj(2026, 3, 10, 16, 1)) is Light.RED


def request(state: CaseState, asked: Limit, at: datetime) -> CaseState:
    cmd = Command(Action.EXTEND_REQUEST, reason="parts on order", extension=asked)
    return decide(state, cmd, Context(at, CAL, LIMITS)).after


@pytest.mark.parametrize(
    "asked",
    [Limit(MAX_EXTENSION_DAYS, WD), Limit(225, WH), Limit(MAX_EXTENSION_DAYS * 24, NH)],
)
def test_an_extension_of_thirty_days_in_any_unit_may_be_asked(asked: Limit) -> None:
    state = handling(Limit(3, WD), bj(2026, 3, 2, 9, 0))
    assert request(state, asked, bj(2026, 3, 2, 10, 0)).extension_pending == asked


@pytest.mark.parametrize(
    "asked",
    [
        Limit(MAX_EXTENSION_DAYS + 1, WD),
        Limit(1000, WD),
        Limit(225.5, WH),
        Limit(MAX_EXTENSION_DAYS * 24 + 1, NH),
        Limit(1e300, WD),  # refused, not a 500 from an overflowing timedelta
    ],
)
def test_a_longer_extension_is_refused_on_its_amount(asked: Limit) -> None:
    state = handling(Limit(3, WD), bj(2026, 3, 2, 9, 0))
    with pytest.raises(InvalidInput) as caught:
        request(state, asked, bj(2026, 3, 2, 10, 0))
    problem = caught.value.problems[0]
    assert (problem.field, problem.rule) == ("amount", "max_extension_length")
    assert "at most 30 working days" in problem.message and "225 working hours" in problem.message


def test_a_shift_leader_grants_no_more_than_the_longest_extension() -> None:
    state = handling(Limit(3, WD), bj(2026, 3, 2, 9, 0))
    at = bj(2026, 3, 2, 10, 0)
    with pytest.raises(InvalidInput) as caught:
        approve(state, Limit(31, WD), at, asked=TWO_DAYS)
    assert caught.value.problems[0].rule == "max_extension_length"
    # A request stored before the bound (or by another path) is not granted as it stands.
    with pytest.raises(InvalidInput) as caught:
        decide(
            replace(state, extension_pending=Limit(40, WD)),
            Command(Action.EXTEND_APPROVE),
            Context(at, CAL, LIMITS),
        )
    assert caught.value.problems[0].field == "amount"


def test_approving_with_nothing_pending_is_refused_on_its_rule() -> None:
    state = handling(Limit(3, WD), bj(2026, 3, 2, 9, 0))
    with pytest.raises(InvalidInput) as caught:
        decide(state, Command(Action.EXTEND_APPROVE), Context(bj(2026, 3, 2, 10), CAL, LIMITS))
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == (
        "action",
        "pending_extension",
    )
