"""Merging duplicates into one case and splitting a case for several departments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command, decide
from onegrid.cases.domain.intake import DESCRIPTION_MAX
from onegrid.cases.domain.lights import StepClock
from onegrid.cases.domain.states import CLOSED_STATUSES, Status, Step
from onegrid.cases.domain.workflow import Action, transition_for
from onegrid.cases.history import Actor, append, entry_values
from onegrid.cases.records import CaseRecord, clock_values
from onegrid.cases.services.common import (
    authorize,
    insert_case,
    load_case,
    local_day,
    next_number,
    stale,
)
from onegrid.cases.services.transitions import check_attachments, context_for, write_outcome
from onegrid.core.clock import Clock
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.people.domain import Principal
from onegrid.people.queries import find_department

_FINAL = frozenset(s.value for s in CLOSED_STATUSES)


def merge_case(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    into_case_id: int,
    clock: Clock,
    rules: CaseRules,
    expected_version: int | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
) -> CaseRecord:
    """Fold a duplicate into another case; the other case's history notes the duplicate so its
    reporter can be kept informed too."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        return merge_case_in(
            session,
            principal,
            case_id,
            into_case_id=into_case_id,
            clock=clock,
            rules=rules,
            expected_version=expected_version,
            reason=reason,
            attachments=attachments,
        )


def _check_target(target: CaseRecord) -> None:
    if target.status == Status.MERGED.value:
        raise InvalidInput.one(
            "into_case_id",
            "merge_target_open",
            f"case {target.number} is merged; merge into the case it points to",
        )
    if target.status in _FINAL:
        raise InvalidInput.one(
            "into_case_id",
            "merge_target_open",
            f"case {target.number} is {target.status}: a duplicate joins an open case, "
            "so its reporter is kept informed; leave this report a case of its own",
        )


def merge_case_in(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    into_case_id: int,
    clock: Clock,
    rules: CaseRules,
    expected_version: int | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
) -> CaseRecord:
    """``attachments``: the duplicate's own files (what shows it repeats the other case), kept
    in its merge entry; the other case's entry names the duplicate, not another case's files."""
    rec = load_case(session, case_id)
    if expected_version is not None and expected_version != rec.version:
        raise stale(rec, expected_version)
    transition = transition_for(Status(rec.status), Action.MERGE)
    actor = authorize(principal, transition.permission, rec)
    if into_case_id == case_id:
        raise InvalidInput.one(
            "into_case_id", "merge_into_self", "a case cannot be merged into itself"
        )
    target = load_case(session, into_case_id)
    # The survivor gains a reporter to keep informed and a history entry: the caller must be
    # allowed to merge there too, or a district could fold its reports into another's case.
    authorize(principal, transition.permission, target)
    _check_target(target)
    cmd = Command(Action.MERGE, reason=reason, attachments=tuple(attachments))
    check_attachments(session, rec, cmd)
    now = clock.now()
    outcome = decide(rec.state(), cmd, context_for(session, rules, rec, cmd, now))
    outcome.details.update({"into": target.number, "into_case_id": target.id})
    merged = write_outcome(session, rec, outcome, actor, cmd, now, {"merged_into_id": target.id})
    append(
        session,
        **entry_values(
            target.id,
            now,
            actor,
            "duplicate_merged",
            target.status,
            target.status,
            target.version,
            reason,
            details={"duplicate": rec.number, "duplicate_case_id": rec.id},
        ),
    )
    return merged


@dataclass(frozen=True)
class SplitPart:
    department_code: str
    description: str = ""


@dataclass(frozen=True)
class SplitResult:
    parent: CaseRecord
    children: tuple[CaseRecord, ...]


def _check_parts(session: Session, parts: Sequence[SplitPart], lead: str) -> None:
    problems: list[FieldProblem] = []
    codes = [p.department_code.strip() for p in parts]
    if len(codes) < 2:
        problems.append(
            FieldProblem("parts", "split_parts", "a split names at least two departments")
        )
    if len(set(codes)) != len(codes):
        problems.append(
            FieldProblem("parts", "distinct_departments", "each department appears once in a split")
        )
    if lead not in codes:
        problems.append(
            FieldProblem(
                "lead_department_code",
                "lead_among_parts",
                "the lead unit (首接负责) is one of the split's departments",
            )
        )
    for i, code in enumerate(codes):
        if find_department(session, code) is None:
            problems.append(
                FieldProblem(
                    f"parts[{i}].department_code", "known_department", f"no department {code!r}"
                )
            )
        if len(parts[i].description) > DESCRIPTION_MAX:
            problems.append(
                FieldProblem(
                    f"parts[{i}].description", "max_length", f"at most {DESCRIPTION_MAX} characters"
                )
            )
    if problems:
        raise InvalidInput(problems)


def _child(
    session: Session,
    rules: CaseRules,
    parent: CaseRecord,
    part: SplitPart,
    actor: Actor,
    now: datetime,
) -> CaseRecord:
    limits = rules.limits.limits(
        parent.limits_version, parent.category_code, parent.urgency, parent.region_class
    )
    clock = StepClock.start(rules.calendar, Step.HANDLE, 1, limits.handle, now)
    base = {k: v for k, v in parent.__dict__.items() if k != "id"}
    values = {
        **base,
        "number": next_number(session, parent.category_code, local_day(rules.calendar, now)),
        "description": part.description.strip() or parent.description,
        "external_ref": None,
        "status": Status.DISPATCHED.value,
        "version": 1,
        "department_code": part.department_code.strip(),
        "merged_into_id": None,
        "split_parent_id": parent.id,
        **clock_values(clock, 1),
        "overdue_steps": 0,
        "overdue_marked": False,
        "escalation_tier": 0,
        "escalated_to": None,
        "extensions_granted": 0,
        "extension_pending": None,
        "hold_requested_at": None,
        "hold_resume_on": None,
        "check_passed": None,
        "returns": 0,
        "reworks": 0,
        "reopens": 0,
        "created_at": now,
        "updated_at": now,
        "filed_at": now,
        "dispatched_at": now,
        "closed_at": None,
    }
    child_id = insert_case(session, values)
    append(
        session,
        **entry_values(
            child_id,
            now,
            actor,
            "create",
            None,
            Status.DISPATCHED.value,
            1,
            details={"split_from": parent.number, "split_parent_id": parent.id},
        ),
    )
    return CaseRecord.of({"id": child_id, **values})


def split_case(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    parts: Sequence[SplitPart],
    lead_department_code: str,
    clock: Clock,
    rules: CaseRules,
    expected_version: int | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
) -> SplitResult:
    """Divide a case among departments: one child case each, dispatched at once; the parent
    records the lead unit and closes when every child has closed."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        return split_case_in(
            session,
            principal,
            case_id,
            parts=parts,
            lead_department_code=lead_department_code,
            clock=clock,
            rules=rules,
            expected_version=expected_version,
            reason=reason,
            attachments=attachments,
        )


def split_case_in(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    parts: Sequence[SplitPart],
    lead_department_code: str,
    clock: Clock,
    rules: CaseRules,
    expected_version: int | None = None,
    reason: str = "",
    attachments: Sequence[int] = (),
) -> SplitResult:
    """``attachments``: the parent's own files, kept in its split entry (the child cases
    start with none)."""
    lead = lead_department_code.strip()
    rec = load_case(session, case_id)
    if expected_version is not None and expected_version != rec.version:
        raise stale(rec, expected_version)
    transition = transition_for(Status(rec.status), Action.SPLIT)
    actor = authorize(principal, transition.permission, rec)
    _check_parts(session, parts, lead)
    cmd = Command(Action.SPLIT, reason=reason, attachments=tuple(attachments))
    check_attachments(session, rec, cmd)
    now = clock.now()
    outcome = decide(rec.state(), cmd, context_for(session, rules, rec, cmd, now))
    outcome.details.update(
        {"lead_department_code": lead, "departments": [p.department_code for p in parts]}
    )
    parent = write_outcome(session, rec, outcome, actor, cmd, now, {"department_code": lead})
    children = tuple(_child(session, rules, parent, p, actor, now) for p in parts)
    return SplitResult(parent, children)
