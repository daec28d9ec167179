"""The workflow as a table: for each (status, action), the status that follows and what it needs.

Anything the table does not list is refused, with the actions that *are* allowed from there.
The dispatch step's clock starts when the case is reported (the command centre's time covers
verification, filing and dispatch) and again when a department returns it.

Who may act is named by a permission (``people.policy`` decides it for a principal, an area and
a department); the table also says whether a reason or attachments are required, and what the
step clock does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from onegrid.cases.domain.states import Status, Step
from onegrid.core.errors import InvalidInput

S = Status


class Action(StrEnum):
    VERIFY = "verify"  # 核实: an inspector confirms a public report on site
    FILE = "file"  # 立案
    CANCEL = "cancel"  # 作废
    DISPATCH = "dispatch"  # 派遣
    ACCEPT = "accept"  # 签收
    RETURN = "return"  # 回退: wrong department, back to the command centre
    HANDLE = "handle"  # a progress note while handling
    REPORT_BACK = "report_back"  # 反馈: done, with photos
    CHECK = "check"  # 核查: an inspector checks the result on site
    CLOSE = "close"  # 结案
    REWORK = "rework"  # 返工: the check failed, back to the department
    EXTEND_REQUEST = "extend_request"  # 延期申请
    EXTEND_APPROVE = "extend_approve"  # 延期审批: granted
    EXTEND_REFUSE = "extend_refuse"  # 延期审批: refused
    HOLD_REQUEST = "hold_request"  # 挂账申请: the department asks to park its case
    HOLD = "hold"  # 挂账: the clock stops (approves a pending hold request, if any)
    HOLD_REFUSE = "hold_refuse"  # 挂账审批: refused
    RESUME = "resume"
    REOPEN = "reopen"  # the requester says it is not solved
    MERGE = "merge"  # a duplicate folded into another case
    SPLIT = "split"  # into child cases for several departments, with a lead unit
    # The system closes a sensor case whose condition cleared before anyone checked the result
    # (shared bikes moved away); people close cases with CLOSE after the on-site check.
    AUTO_CLOSE = "auto_close"


class ClockEffect(StrEnum):
    """What a transition does to the step clock."""

    NONE = "none"
    START = "start"  # ends the running step (if any) and starts ``Transition.step``
    STOP = "stop"  # ends the running step; no step follows until the next START
    HOLD = "hold"
    RESUME = "resume"
    EXTEND = "extend"


@dataclass(frozen=True)
class Transition:
    to: Status
    permission: str
    reason_required: bool = False
    attachments_required: bool = False
    clock: ClockEffect = ClockEffect.NONE
    step: Step | None = None


def _t(
    to: Status,
    permission: str,
    *,
    reason: bool = False,
    attachments: bool = False,
    clock: ClockEffect = ClockEffect.NONE,
    step: Step | None = None,
) -> Transition:
    return Transition(to, permission, reason, attachments, clock, step)


_STOP = ClockEffect.STOP
A = Action


def _auto_close() -> Transition:
    return _t(S.CLOSED, "case.auto_close", reason=True, clock=_STOP)


TRANSITIONS: dict[tuple[Status, Action], Transition] = {
    (S.TO_VERIFY, A.VERIFY): _t(S.TO_FILE, "case.verify"),
    (S.TO_VERIFY, A.CANCEL): _t(S.CANCELLED, "case.cancel", reason=True, clock=_STOP),
    (S.TO_VERIFY, A.MERGE): _t(S.MERGED, "case.merge", clock=_STOP),
    (S.TO_FILE, A.FILE): _t(S.TO_DISPATCH, "case.file"),
    (S.TO_FILE, A.CANCEL): _t(S.CANCELLED, "case.cancel", reason=True, clock=_STOP),
    (S.TO_FILE, A.MERGE): _t(S.MERGED, "case.merge", clock=_STOP),
    (S.TO_DISPATCH, A.DISPATCH): _t(
        S.DISPATCHED, "case.dispatch", clock=ClockEffect.START, step=Step.HANDLE
    ),
    (S.TO_DISPATCH, A.MERGE): _t(S.MERGED, "case.merge", clock=_STOP),
    (S.TO_DISPATCH, A.SPLIT): _t(S.SPLIT, "case.split", clock=_STOP),
    (S.DISPATCHED, A.ACCEPT): _t(S.HANDLING, "case.accept"),
    (S.DISPATCHED, A.RETURN): _t(
        S.TO_DISPATCH, "case.return", reason=True, clock=ClockEffect.START, step=Step.DISPATCH
    ),
    (S.HANDLING, A.RETURN): _t(
        S.TO_DISPATCH, "case.return", reason=True, clock=ClockEffect.START, step=Step.DISPATCH
    ),
    (S.HANDLING, A.HANDLE): _t(S.HANDLING, "case.handle", reason=True),
    (S.HANDLING, A.REPORT_BACK): _t(
        S.TO_CHECK,
        "case.report_back",
        reason=True,
        attachments=True,
        clock=ClockEffect.START,
        step=Step.CHECK,
    ),
    (S.HANDLING, A.EXTEND_REQUEST): _t(S.HANDLING, "case.extend.request", reason=True),
    (S.HANDLING, A.EXTEND_APPROVE): _t(S.HANDLING, "case.extend.approve", clock=ClockEffect.EXTEND),
    (S.HANDLING, A.EXTEND_REFUSE): _t(S.HANDLING, "case.extend.approve", reason=True),
    (S.HANDLING, A.HOLD_REQUEST): _t(S.HANDLING, "case.hold.request", reason=True),
    # A direct hold needs a reason; one approving a pending request has the request's.
    (S.HANDLING, A.HOLD): _t(S.ON_HOLD, "case.hold", reason=True, clock=ClockEffect.HOLD),
    (S.HANDLING, A.HOLD_REFUSE): _t(S.HANDLING, "case.hold", reason=True),
    (S.ON_HOLD, A.RESUME): _t(S.HANDLING, "case.resume", clock=ClockEffect.RESUME),
    (S.TO_CHECK, A.CHECK): _t(S.TO_CLOSE, "case.check", clock=_STOP),
    (S.TO_CHECK, A.REWORK): _t(
        S.HANDLING, "case.rework", reason=True, clock=ClockEffect.START, step=Step.HANDLE
    ),
    (S.TO_CLOSE, A.CLOSE): _t(S.CLOSED, "case.close"),
    (S.TO_CLOSE, A.REWORK): _t(
        S.HANDLING, "case.rework", reason=True, clock=ClockEffect.START, step=Step.HANDLE
    ),
    (S.SPLIT, A.CLOSE): _t(S.CLOSED, "case.close"),
    (S.CLOSED, A.REOPEN): _t(
        S.HANDLING, "case.reopen", reason=True, clock=ClockEffect.START, step=Step.HANDLE
    ),
    **{
        (s, A.AUTO_CLOSE): _auto_close()
        for s in (S.TO_FILE, S.TO_DISPATCH, S.DISPATCHED, S.HANDLING, S.ON_HOLD)
    },
}


def allowed_actions(status: Status) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s is status]


def transition_for(status: Status, action: Action) -> Transition:
    """The table's entry, or a 422 naming the rule and what is allowed from ``status``."""
    found = TRANSITIONS.get((status, action))
    if found is not None:
        return found
    allowed = ", ".join(a.value for a in allowed_actions(status)) or "nothing (final)"
    raise InvalidInput.one(
        "action",
        "allowed_transition",
        f"a case in status {status.value} cannot {action.value}; allowed from "
        f"{status.value}: {allowed}",
    )
