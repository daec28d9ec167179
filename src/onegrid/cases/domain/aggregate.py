"""The case aggregate's decisions: given its state and a command, the state that follows.

``decide`` is a pure function: the service loads the state (locked, version checked), asks
``decide``, then writes the new state and one history entry in the same transaction. Who may
act is checked by the service against ``Transition.permission``; everything else a transition
needs (a reason, photos, a department, a pending extension or hold request…) is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.lights import StepClock
from onegrid.cases.domain.states import Status
from onegrid.cases.domain.timelimits import MAX_EXTENSION_DAYS, Limit, StepLimits
from onegrid.cases.domain.workflow import Action, ClockEffect, Transition, transition_for
from onegrid.core.errors import InvalidInput

REASON_MAX = 2000
ESCALATION_TIERS = ("subdistrict", "district", "city")


@dataclass(frozen=True)
class HoldRequest:
    """A department's pending request to park its case (挂账申请), until a shift leader decides.

    Its reason is the request's history entry; ``resume_on`` is the day the department expects
    to take the work up again (the season, the engineering works), if it says.
    """

    requested_at: datetime
    resume_on: date | None = None


@dataclass(frozen=True)
class CaseState:
    """What the workflow reads and changes; the rest of a case (where, what, who) is fixed."""

    status: Status
    version: int = 1
    department_code: str | None = None
    clock: StepClock | None = None
    step_round: int = 0
    overdue_steps: int = 0
    overdue_marked: bool = False  # the running step was already counted as overdue
    escalation_tier: int = 0
    extensions_granted: int = 0
    extension_pending: Limit | None = None
    hold_pending: HoldRequest | None = None
    # While the case is on hold: the day work is expected to resume, from the approved request
    # (none for a direct hold or a request that named no day), so the queue can show it.
    hold_resume_on: date | None = None
    check_passed: bool | None = None
    returns: int = 0
    reworks: int = 0
    reopens: int = 0
    filed_at: datetime | None = None
    dispatched_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Command:
    action: Action
    reason: str = ""
    attachments: tuple[int, ...] = ()
    department_code: str | None = None  # dispatch
    passed: bool | None = None  # check
    extension: Limit | None = None  # requested, or granted on approval (default: as requested)
    resume_on: date | None = None  # hold request: the day work is expected to resume


@dataclass(frozen=True)
class Context:
    now: datetime
    calendar: WorkingCalendar
    limits: StepLimits
    max_extensions: int = 2
    open_children: int = 0  # a split case closes only when every child has
    # Historical replays: photos of the source system are not carried over.
    require_attachments: bool = True


@dataclass(frozen=True)
class Outcome:
    before: CaseState
    after: CaseState
    transition: Transition
    step_ended_late: bool
    details: dict[str, Any] = field(default_factory=dict)


def _require(condition: bool, field_name: str, rule: str, message: str) -> None:
    if not condition:
        raise InvalidInput.one(field_name, rule, message)


def check_reason(transition: Transition, action: Action, reason: str) -> str:
    text = reason.strip()
    _require(
        bool(text) or not transition.reason_required,
        "reason",
        "reason_required",
        f"{action.value} needs a reason",
    )
    _require(
        len(text) <= REASON_MAX,
        "reason",
        "max_length",
        f"a reason is at most {REASON_MAX} characters",
    )
    return text


def _guard(state: CaseState, cmd: Command, ctx: Context) -> dict[str, Any]:
    """Checks beyond the table; returns what the history entry should record."""
    a = cmd.action
    if a is Action.DISPATCH:
        _require(
            bool(cmd.department_code),
            "department_code",
            "required",
            "dispatch names the department that will handle the case",
        )
        return {"department_code": cmd.department_code}
    if a is Action.CHECK:
        _require(
            cmd.passed is not None,
            "passed",
            "required",
            "a check says whether the problem was solved (passed: true or false)",
        )
        _require(
            bool(cmd.passed) or bool(cmd.reason.strip()),
            "reason",
            "reason_required",
            "a failed check needs a reason",
        )
        return {"passed": cmd.passed}
    if a is Action.CLOSE and state.status is Status.TO_CLOSE:
        _require(
            state.check_passed is True,
            "action",
            "close_after_passed_check",
            "the last on-site check failed: order rework instead of closing",
        )
    if a is Action.CLOSE and state.status is Status.SPLIT:
        _require(
            ctx.open_children == 0,
            "action",
            "children_closed",
            f"{ctx.open_children} child case(s) are still open",
        )
    if a is Action.EXTEND_REQUEST:
        _require(
            cmd.extension is not None,
            "extension",
            "required",
            "an extension request says how much time ({amount, unit})",
        )
        _require(
            state.extension_pending is None,
            "action",
            "one_pending_extension",
            "an extension request is already waiting for approval",
        )
        _require(
            state.extensions_granted < ctx.max_extensions,
            "action",
            "max_extensions",
            f"this case already had {state.extensions_granted} extension(s); "
            f"at most {ctx.max_extensions} are allowed",
        )
        assert cmd.extension is not None
        _check_extension_length(cmd.extension, ctx)
        return {"requested": str(cmd.extension)}
    if a in (Action.EXTEND_APPROVE, Action.EXTEND_REFUSE):
        _require(
            state.extension_pending is not None,
            "action",
            "pending_extension",
            "there is no extension request to decide",
        )
        if a is Action.EXTEND_APPROVE:
            granted = cmd.extension or state.extension_pending
            assert granted is not None
            _check_extension_length(granted, ctx)
            return {"granted": str(granted)}
    if a in (Action.HOLD_REQUEST, Action.HOLD, Action.HOLD_REFUSE):
        return _guard_hold(state, cmd, ctx)
    if a is Action.REOPEN:
        _require(
            state.department_code is not None,
            "action",
            "reopen_needs_department",
            "the case was never handled by a department; file a new case instead",
        )
    return {}


def _check_extension_length(extension: Limit, ctx: Context) -> None:
    """One extension is at most ``MAX_EXTENSION_DAYS`` days, asked for or granted."""
    days = MAX_EXTENSION_DAYS
    hours = ctx.calendar.working_days(ctx.now, days) / timedelta(hours=1)
    _require(
        extension.within_days(days, ctx.calendar, ctx.now),
        "amount",
        "max_extension_length",
        f"one extension is at most {days} working days ({hours:g} working hours, "
        f"or {days * 24} natural hours); {extension} is more",
    )


def _guard_hold(state: CaseState, cmd: Command, ctx: Context) -> dict[str, Any]:
    """A hold request, and the shift leader's answer: a hold (approval) or a refusal."""
    pending = state.hold_pending
    if cmd.action is Action.HOLD_REQUEST:
        _require(
            pending is None,
            "action",
            "one_pending_hold",
            "a hold request is already waiting for approval",
        )
        if cmd.resume_on is None:
            return {}
        today = ctx.now.astimezone(ctx.calendar.tz).date()
        _require(
            cmd.resume_on > today,
            "resume_on",
            "after_today",
            f"the day work is expected to resume must be after today ({today.isoformat()})",
        )
        return {"resume_on": cmd.resume_on.isoformat()}
    if cmd.action is Action.HOLD_REFUSE:
        _require(
            pending is not None,
            "action",
            "pending_hold",
            "there is no hold request to decide",
        )
    if pending is None:
        return {}  # a direct hold by the shift leader
    decided = "request_refused" if cmd.action is Action.HOLD_REFUSE else "request_approved"
    details: dict[str, Any] = {decided: pending.requested_at.isoformat()}
    if pending.resume_on is not None and cmd.action is Action.HOLD:
        # Approving parks the case until the day the department named; once that day has come
        # the request no longer says what it asks for, and granting a hold with no day (or
        # another day) would be the shift leader's request, not the department's: it is
        # refused, and the department asks again.
        today = ctx.now.astimezone(ctx.calendar.tz).date()
        _require(
            pending.resume_on > today,
            "resume_on",
            "after_today",
            f"the request's day to resume ({pending.resume_on.isoformat()}) is not after today "
            f"({today.isoformat()}): refuse the request, and the department may ask again",
        )
        details["resume_on"] = pending.resume_on.isoformat()
    return details


def _clock(
    state: CaseState, t: Transition, cmd: Command, ctx: Context
) -> tuple[StepClock | None, int, bool]:
    """The clock after the transition, the step round, and whether the ended step was late."""
    clock = state.clock
    if t.clock is ClockEffect.HOLD and clock is not None:
        return clock.hold(ctx.now), state.step_round, False
    if t.clock is ClockEffect.RESUME and clock is not None:
        return clock.resume(ctx.calendar, ctx.now), state.step_round, False
    if t.clock is ClockEffect.EXTEND and clock is not None:
        granted = cmd.extension or state.extension_pending
        assert granted is not None
        return clock.extend(ctx.calendar, granted, ctx.now), state.step_round, False
    if t.clock in (ClockEffect.START, ClockEffect.STOP):
        late = clock is not None and clock.overdue(ctx.now)
        if t.clock is ClockEffect.STOP or t.step is None:
            return None, state.step_round, late
        new_round = state.step_round + 1
        limit = ctx.limits.for_step(t.step)
        return StepClock.start(ctx.calendar, t.step, new_round, limit, ctx.now), new_round, late
    return clock, state.step_round, False


def _fields(state: CaseState, cmd: Command, ctx: Context) -> dict[str, Any]:
    """Per-action changes to the counters and the facts the evaluation reads."""
    a, now = cmd.action, ctx.now
    table: dict[Action, dict[str, Any]] = {
        Action.FILE: {"filed_at": now},
        Action.DISPATCH: {"department_code": cmd.department_code, "dispatched_at": now},
        Action.RETURN: {"department_code": None, "returns": state.returns + 1},
        Action.CHECK: {"check_passed": cmd.passed},
        Action.REWORK: {"reworks": state.reworks + 1, "check_passed": None},
        Action.CLOSE: {"closed_at": now},
        Action.AUTO_CLOSE: {"closed_at": now},
        Action.CANCEL: {"closed_at": now},
        Action.MERGE: {"closed_at": now},
        Action.REOPEN: {"reopens": state.reopens + 1, "closed_at": None, "check_passed": None},
        Action.EXTEND_REQUEST: {"extension_pending": cmd.extension},
        Action.EXTEND_APPROVE: {
            "extension_pending": None,
            "extensions_granted": state.extensions_granted + 1,
        },
        Action.EXTEND_REFUSE: {"extension_pending": None},
        Action.HOLD_REQUEST: {"hold_pending": HoldRequest(now, cmd.resume_on)},
        Action.HOLD: {
            "hold_pending": None,
            "hold_resume_on": state.hold_pending.resume_on if state.hold_pending else None,
        },
        Action.HOLD_REFUSE: {"hold_pending": None},
    }
    return table.get(a, {})


def decide(state: CaseState, cmd: Command, ctx: Context) -> Outcome:
    """Apply ``cmd`` to ``state`` or raise ``InvalidInput`` naming the broken rule."""
    t = transition_for(state.status, cmd.action)
    # Approving a hold request: the department gave its reason with the request (in the
    # history), so the shift leader's note is optional, as on an extension's approval.
    approving = cmd.action is Action.HOLD and state.hold_pending is not None
    reason = check_reason(
        replace(t, reason_required=False) if approving else t, cmd.action, cmd.reason
    )
    _require(
        bool(cmd.attachments) or not t.attachments_required or not ctx.require_attachments,
        "attachments",
        "attachments_required",
        f"{cmd.action.value} needs at least one attachment (photos of the result)",
    )
    details = _guard(state, cmd, ctx)
    clock, round_, late = _clock(state, t, cmd, ctx)
    new_step = clock is None or (state.clock is None or clock.round != state.clock.round)
    overdue_steps = state.overdue_steps + (1 if late and not state.overdue_marked else 0)
    pending = state.extension_pending
    hold_pending = state.hold_pending
    # A request asks for more time on the running step, or to park it: once that step ends (a
    # return, a report back, a re-dispatch, a reopen, an auto close…) nobody may grant it to the
    # next step or the next department, and it must not block that department's own request.
    if t.clock in (ClockEffect.START, ClockEffect.STOP):
        if pending is not None:
            pending = None
            details["extension_lapsed"] = str(state.extension_pending)
        if hold_pending is not None:
            details["hold_request_lapsed"] = hold_pending.requested_at.isoformat()
            hold_pending = None
    after = replace(
        state,
        status=t.to,
        version=state.version + 1,
        clock=clock,
        step_round=round_,
        overdue_steps=overdue_steps,
        overdue_marked=False if new_step else state.overdue_marked,
        escalation_tier=0 if new_step else state.escalation_tier,
        **{
            "extension_pending": pending,
            "hold_pending": hold_pending,
            # The day to resume belongs to the hold: it goes when the case leaves ON_HOLD.
            "hold_resume_on": state.hold_resume_on if t.to is Status.ON_HOLD else None,
            **_fields(state, cmd, ctx),
        },
    )
    if reason:
        details["reason"] = reason
    return Outcome(state, after, t, late, details)


def escalation_due(state: CaseState, calendar: WorkingCalendar, now: datetime) -> int | None:
    """The tier an overdue step should now be escalated to, if higher than where it is.

    Overdue → one tier up (subdistrict → district); each further full allowance overdue → one
    more, up to the city. A pure function of time, so running the job twice changes nothing
    more.
    """
    clock = state.clock
    if clock is None or clock.hold_started_at is not None or not clock.allowed:
        return None
    if not clock.overdue(now):
        return None
    used = clock.used(calendar, now)
    tier = min(1 + max(int((used - clock.allowed) / clock.allowed), 0), len(ESCALATION_TIERS) - 1)
    return tier if tier > state.escalation_tier else None
