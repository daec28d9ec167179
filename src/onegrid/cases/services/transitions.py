"""The workflow commands: one function per transition, each one transaction.

Every command: load the case → check the expected version → look the transition up in the
table → check the caller's permission for the case's area and department → ``decide`` (the
domain's guards) → write the new state with a version guard → append one history entry. A
version guard that fails (someone committed in between) is a 409 carrying the current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import REASON_MAX, Command, Context, Outcome, decide
from onegrid.cases.domain.states import CLOSED_STATUSES, Status
from onegrid.cases.domain.timelimits import Limit
from onegrid.cases.domain.workflow import Action, allowed_actions, transition_for
from onegrid.cases.history import REQUESTER, Actor, append, entry_values
from onegrid.cases.models import CaseAttachmentRow
from onegrid.cases.records import CASES, CaseRecord, state_values
from onegrid.cases.services.common import authorize, load_case, local_day, stale
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.grid.domain import Location
from onegrid.grid.queries import responsible_department
from onegrid.people.domain import Principal
from onegrid.people.queries import find_department

ATTACHMENTS = CaseAttachmentRow.__table__
# Built once; the SET columns come from the parameters, so the compiled form is cached.
_GUARDED_UPDATE = update(CASES).where(
    CASES.c.id == bindparam("_id"), CASES.c.version == bindparam("_v")
)
_IMAGE_TYPES = ("image/",)
_ALWAYS_WRITTEN = frozenset({"version", "updated_at"})


def check_attachments(session: Session, rec: CaseRecord, cmd: Command) -> None:
    """A step's attachments are files already attached to the case it acts on: its history
    entry keeps their ids, whichever step it is (merge and split too)."""
    if not cmd.attachments:
        return
    wanted = set(cmd.attachments)
    rows = (
        session.connection()
        .execute(
            select(ATTACHMENTS.c.id, ATTACHMENTS.c.media_type).where(
                ATTACHMENTS.c.case_id == rec.id, ATTACHMENTS.c.id.in_(wanted)
            )
        )
        .all()
    )
    missing = wanted - {r.id for r in rows}
    if missing:
        raise InvalidInput.one(
            "attachments",
            "attachment_of_case",
            f"attachment(s) {sorted(missing)} are not attached to case {rec.number}: "
            "upload them to this case first",
        )
    if cmd.action is Action.REPORT_BACK and not any(
        r.media_type.startswith(_IMAGE_TYPES) for r in rows
    ):
        raise InvalidInput.one(
            "attachments", "photo_required", "a report back needs at least one photo"
        )


def _open_children(session: Session, rec: CaseRecord) -> int:
    return int(
        session.connection()
        .execute(
            select(func.count())
            .select_from(CASES)
            .where(
                CASES.c.split_parent_id == rec.id,
                CASES.c.status.not_in([s.value for s in CLOSED_STATUSES]),
            )
        )
        .scalar_one()
    )


def duty_for(session: Session, rec: CaseRecord, on: date) -> str | None:
    """The department the duty rules in force on the day ``on`` name for the case's category
    and place."""
    if rec.h3_10 is None:
        return None
    location = Location(
        rec.lon,
        rec.lat,
        rec.unit_grid_code,
        rec.community_code,
        rec.subdistrict_code,
        rec.district_code,
        rec.city_code,
        "",
        rec.h3_10,
        "",
    )
    duty = responsible_department(session, rec.category_code, location, on=on)
    return duty.department_code if duty else None


def _check_department(session: Session, cmd: Command, rec: CaseRecord, on: date) -> Command:
    if cmd.action is not Action.DISPATCH:
        return cmd
    code = (cmd.department_code or rec.suggested_department_code or "").strip()
    code = code or (duty_for(session, rec, on) or "")
    if not code:
        raise InvalidInput.one(
            "department_code",
            "required",
            "no department is responsible for this place and category: name one",
        )
    if find_department(session, code) is None:
        raise InvalidInput.one("department_code", "known_department", f"no department {code!r}")
    return replace(cmd, department_code=code)


def context_for(
    session: Session, rules: CaseRules, rec: CaseRecord, cmd: Command, now: datetime
) -> Context:
    limits = rules.limits.limits(
        rec.limits_version, rec.category_code, rec.urgency, rec.region_class
    )
    children = 0
    if cmd.action is Action.CLOSE and rec.status == Status.SPLIT.value:
        children = _open_children(session, rec)
    return Context(now, rules.calendar, limits, rules.limits.max_extensions, children)


def write_outcome(
    session: Session,
    rec: CaseRecord,
    outcome: Outcome,
    actor: Actor,
    cmd: Command,
    now: datetime,
    extra: dict[str, Any] | None = None,
    *,
    noted: dict[str, Any] | None = None,
) -> CaseRecord:
    """Store the state that follows, guarded by the version read, and append its history
    (``noted``: more for the history entry's details). ``rec`` is the row as stored at its
    version; ``extra`` columns are written as given."""
    state = {**state_values(outcome.after), "updated_at": now}
    values = {**state, **(extra or {})}
    # Of the state, only the columns that change are written: every write of a case bumps its
    # version, so under the guard the row still is ``rec``. SQLite rewrites the entry of every
    # index on a column in the SET list, changed or not, and the state is about 30 columns, a
    # dozen of them indexed (a quarter of the UPDATE's cost). The version and time always are.
    changed = {k: v for k, v in state.items() if k in _ALWAYS_WRITTEN or getattr(rec, k) != v}
    result = session.connection().execute(
        _GUARDED_UPDATE, {**changed, **(extra or {}), "_id": rec.id, "_v": rec.version}
    )
    if result.rowcount != 1:
        raise stale(load_case(session, rec.id), rec.version)
    details = {**outcome.details, **(noted or {})}
    if outcome.step_ended_late:
        details["step_ended_late"] = True
    append(
        session,
        **entry_values(
            rec.id,
            now,
            actor,
            cmd.action.value,
            rec.status,
            outcome.after.status.value,
            outcome.after.version,
            details.pop("reason", ""),
            cmd.attachments,
            details,
        ),
    )
    return replace(rec, **values)


# The permissions other than a transition's own under which a channel takes some steps, and
# which: a department system's Open311 update moves its department's cases as the handlers
# would, but only through that channel and its checks (its own photos as the result, each
# update_id once), so the key holds no ``case.*`` permission to call the commands directly.
DELEGATED_STEPS: dict[str, frozenset[Action]] = {
    "open311.department_update": frozenset(
        {Action.ACCEPT, Action.HANDLE, Action.REPORT_BACK, Action.RETURN}
    ),
}


def act_in(
    session: Session,
    principal: Principal,
    case_id: int,
    cmd: Command,
    *,
    clock: Clock,
    rules: CaseRules,
    expected_version: int | None = None,
    noted: dict[str, Any] | None = None,
    permission: str | None = None,
) -> CaseRecord:
    """Apply one workflow command inside the caller's transaction (``noted``: more for the
    history entry's details, such as the channel's own reference of the step).

    ``permission``: for a channel of ``DELEGATED_STEPS`` only, the permission that authorizes
    the step instead of the transition's own, checked on this very case (its area and current
    department); the history names the principal, in the role that permission allows. Not a
    bypass: only the steps listed for it, and every domain guard still applies."""
    rec = load_case(session, case_id)
    if expected_version is not None and expected_version != rec.version:
        raise stale(rec, expected_version)
    transition = transition_for(Status(rec.status), cmd.action)
    if permission is not None and cmd.action not in DELEGATED_STEPS.get(permission, ()):
        raise ValueError(f"{permission!r} does not authorize {cmd.action.value}")
    actor = authorize(principal, permission or transition.permission, rec)
    return _apply(session, rec, cmd, actor, clock=clock, rules=rules, noted=noted)


def _apply(
    session: Session,
    rec: CaseRecord,
    cmd: Command,
    actor: Actor,
    *,
    clock: Clock,
    rules: CaseRules,
    noted: dict[str, Any] | None = None,
) -> CaseRecord:
    """The command on an authorized actor's behalf: the domain's guards, then the write."""
    now = clock.now()
    today = local_day(rules.calendar, now)
    cmd = _check_department(session, cmd, rec, today)
    check_attachments(session, rec, cmd)
    extra = None
    if cmd.action is Action.FILE:
        # A case keeps the time limits in force on the day it is filed (立案): a public report
        # verified on site after a new version took effect is held to the new one.
        filed_under = rules.limits.version_on(today).version
        if filed_under != rec.limits_version:
            rec = replace(rec, limits_version=filed_under)
            extra = {"limits_version": filed_under}
    outcome = decide(rec.state(), cmd, context_for(session, rules, rec, cmd, now))
    return write_outcome(session, rec, outcome, actor, cmd, now, extra, noted=noted)


def act(
    db: Database,
    principal: Principal,
    case_id: int,
    cmd: Command,
    *,
    clock: Clock,
    rules: CaseRules,
    expected_version: int | None = None,
) -> CaseRecord:
    """Apply one workflow command in its own transaction."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        return act_in(
            session,
            principal,
            case_id,
            cmd,
            clock=clock,
            rules=rules,
            expected_version=expected_version,
        )


# The permissions under which someone records the requester's own answer on a case, and what
# that answer is called in the history: the desk's callback (回访) and the reporter's rating (评价).
REQUESTER_ANSWERS: dict[str, str] = {"hotline.callback": "callback", "case.evaluate": "rating"}


def send_back_for_requester_in(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    answered_under: str,
    reason: str,
    clock: Clock,
    rules: CaseRules,
) -> CaseRecord:
    """The requester says the problem is not solved: a case reported back but not yet closed goes
    back to its department for rework (返工), a closed one is reopened; anything else is refused.

    Whoever records that answer (an operator on a callback, the reporter rating in the app) need
    not hold ``case.rework`` or ``case.reopen``: those are staff judgements on a unit's work, while
    here the judgement is the requester's, and nobody's role may make it count for nothing. So
    what authorizes the transition is the permission the answer is recorded under
    (``answered_under``, one of ``REQUESTER_ANSWERS``), for this very case; the history names the
    system acting for the requester (``REQUESTER``, outside every post's indicators) and keeps who
    recorded the answer. Not a bypass: only these two transitions are reachable this way, and no
    system principal or extra role is made up for it.
    """
    if answered_under not in REQUESTER_ANSWERS:
        raise ValueError(f"{answered_under!r} does not record a requester's answer")
    rec = load_case(session, case_id)
    authorize(principal, answered_under, rec)  # the answer's permission, on this very case
    allowed = allowed_actions(Status(rec.status))
    action = next((a for a in (Action.REWORK, Action.REOPEN) if a in allowed), None)
    if action is None:
        raise InvalidInput.one(
            "case_id",
            "reported_back_or_closed",
            f"case {rec.number} is {rec.status}: only a case reported back or closed can go "
            "back to its department",
        )
    # The answer's full text stays with the answer; the history keeps what fits a reason.
    cmd = Command(action, reason=reason.strip()[:REASON_MAX])
    noted = {
        "on_behalf_of": "requester",
        "answer": REQUESTER_ANSWERS[answered_under],
        "recorded_by": principal.actor,
    }
    return _apply(session, rec, cmd, REQUESTER, clock=clock, rules=rules, noted=noted)


class SimpleCommand(Protocol):
    """A transition that needs nothing but an optional reason and attachments."""

    def __call__(
        self,
        db: Database,
        principal: Principal,
        case_id: int,
        *,
        clock: Clock,
        rules: CaseRules,
        expected_version: int | None = None,
        reason: str = "",
        attachments: Sequence[int] = (),
    ) -> CaseRecord: ...


def _simple(action: Action) -> SimpleCommand:
    def command(
        db: Database,
        principal: Principal,
        case_id: int,
        *,
        clock: Clock,
        rules: CaseRules,
        expected_version: int | None = None,
        reason: str = "",
        attachments: Sequence[int] = (),
    ) -> CaseRecord:
        cmd = Command(action, reason=reason, attachments=tuple(attachments))
        return act(
            db, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected_version
        )

    command.__name__ = f"{action.value}_case"
    command.__doc__ = f"The {action.value} transition (see ``domain.workflow.TRANSITIONS``)."
    return command


verify_case = _simple(Action.VERIFY)
file_case = _simple(Action.FILE)
cancel_case = _simple(Action.CANCEL)
accept_case = _simple(Action.ACCEPT)
return_case = _simple(Action.RETURN)
handle_case = _simple(Action.HANDLE)
report_back_case = _simple(Action.REPORT_BACK)
close_case = _simple(Action.CLOSE)
rework_case = _simple(Action.REWORK)
refuse_extension = _simple(Action.EXTEND_REFUSE)
# A shift leader's hold approves the department's pending request, if there is one.
hold_case = _simple(Action.HOLD)
refuse_hold = _simple(Action.HOLD_REFUSE)
resume_case = _simple(Action.RESUME)
reopen_case = _simple(Action.REOPEN)


def dispatch_case(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    department_code: str | None = None,
    expected_version: int | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
) -> CaseRecord:
    """Send the case to a department (by default the one the duty rules suggest)."""
    cmd = Command(
        Action.DISPATCH,
        reason=reason,
        attachments=tuple(attachments),
        department_code=department_code,
    )
    return act(
        db, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected_version
    )


def check_case(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    passed: bool,
    expected_version: int | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
) -> CaseRecord:
    """Record the on-site check of the result: solved (passed) or not."""
    cmd = Command(Action.CHECK, reason=reason, attachments=tuple(attachments), passed=passed)
    return act(
        db, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected_version
    )


def request_extension(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    extension: Limit,
    reason: str,
    attachments: Sequence[int] = (),
    expected_version: int | None = None,
) -> CaseRecord:
    cmd = Command(
        Action.EXTEND_REQUEST, reason=reason, attachments=tuple(attachments), extension=extension
    )
    return act(
        db, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected_version
    )


def approve_extension(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    granted: Limit | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
    expected_version: int | None = None,
) -> CaseRecord:
    """Grant the pending extension (or ``granted``, if less or more is given)."""
    cmd = Command(
        Action.EXTEND_APPROVE, reason=reason, attachments=tuple(attachments), extension=granted
    )
    return act(
        db, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected_version
    )


def request_hold(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    reason: str,
    resume_on: date | None = None,
    attachments: Sequence[int] = (),
    expected_version: int | None = None,
) -> CaseRecord:
    """Ask a shift leader to park the case (挂账申请), optionally saying when work should resume."""
    cmd = Command(
        Action.HOLD_REQUEST, reason=reason, attachments=tuple(attachments), resume_on=resume_on
    )
    return act(
        db, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected_version
    )
