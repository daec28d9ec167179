"""The hotline desk's use cases: record a call, call the requester back. Each one transaction.

A consultation the knowledge base answers is closed on the spot; a caller ringing again about a
case still open is linked to it; anything else becomes a case (channel hotline) through the
cases context, routed, checked for duplicates and, when the desk may, dispatched at once (直派).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.intake import NewCase, Reporter
from onegrid.cases.domain.states import CLOSED_STATUSES, Channel, Nature, Status
from onegrid.cases.queries import get_case
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.common import load_case, local_day
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.dispatch.classifier import Correction
from onegrid.dispatch.classifier.services import keep_correction_in
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.duplicates.services import Proposal, screen_case_in
from onegrid.dispatch.hotline.domain import HotlineRules, LimitClass, Outcome, Satisfaction
from onegrid.dispatch.hotline.domain import caller_key as key_of
from onegrid.dispatch.hotline.intake import (
    CallDraft,
    check_draft,
    needs_case_fields,
    placed_at,
)
from onegrid.dispatch.hotline.knowledge import Answer, get_answer, search_answers
from onegrid.dispatch.models import HotlineCallbackRow, HotlineCallRow
from onegrid.dispatch.routing.domain import Route, chosen
from onegrid.dispatch.routing.services import (
    dispatch_in,
    may_dispatch_directly,
    route_of_case,
    store_route,
)
from onegrid.people.domain import Principal
from onegrid.people.policy import can_somewhere, require, require_somewhere
from onegrid.people.queries import find_department

_CLOSED = frozenset(s.value for s in CLOSED_STATUSES)
_CALLBACK_STATUSES = frozenset({Status.TO_CHECK.value, Status.TO_CLOSE.value, Status.CLOSED.value})


@dataclass(frozen=True)
class DeskRules:
    """Everything the desk reads besides the database."""

    cases: CaseRules
    hotline: HotlineRules
    duplicates: DuplicateRules
    data_dir: Path
    classifier_name: str = "default"


@dataclass
class CallResult:
    call: HotlineCallRow
    outcome: Outcome
    case: CaseRecord | None = None
    route: Route | None = None
    answer: Answer | None = None
    limit_class: LimitClass | None = None
    dispatched: bool = False
    waiting: str = ""  # why the case was not dispatched at once
    duplicates: list[Proposal] = field(default_factory=list)


def _earlier_open_call(
    session: Session, key: str | None, category: str | None
) -> HotlineCallRow | None:
    """The same caller's latest call about a case of the same category still open."""
    if key is None or category is None:
        return None
    rows = session.scalars(
        select(HotlineCallRow)
        .where(
            HotlineCallRow.caller_key == key,
            HotlineCallRow.case_id.is_not(None),
            HotlineCallRow.category_code == category,
        )
        .order_by(HotlineCallRow.id.desc())
        .limit(5)
    )
    for row in rows:
        assert row.case_id is not None
        if get_case(session, row.case_id).status not in _CLOSED:
            return row
    return None


def _first_call_about(session: Session, case_id: int) -> HotlineCallRow | None:
    return session.scalars(
        select(HotlineCallRow)
        .where(HotlineCallRow.case_id == case_id)
        .order_by(HotlineCallRow.id)
        .limit(1)
    ).first()


def _consultation_answer(session: Session, draft: CallDraft) -> Answer | None:
    if draft.answer_id is not None:
        return get_answer(session, draft.answer_id)
    found = search_answers(session, draft.text, limit=1)
    return found[0] if found else None


def place_call(
    session: Session, draft: CallDraft, calendar: WorkingCalendar, now: datetime
) -> CallDraft:
    """The call at the standard address the operator named, as the register holds it on the
    city's day; an id it does not hold is refused (422 naming ``address_id``)."""
    if draft.address_id is None:
        return draft
    found = cases.registered_address(session, draft.address_id, local_day(calendar, now))
    return placed_at(draft, found.lon, found.lat, found.text)


def _call_row(draft: CallDraft, principal: Principal, now: datetime) -> HotlineCallRow:
    return HotlineCallRow(
        received_at=now,
        medium=draft.medium.value,
        operator=principal.actor,
        caller_name=draft.caller_name,
        caller_phone=draft.caller_phone,
        caller_key=key_of(draft.caller_phone),
        nature=draft.nature.value,
        text=draft.text,
        address=draft.address,
        lon=draft.lon,
        lat=draft.lat,
        category_code=draft.category_code,
        suggested_category=draft.suggested_category,
        suggested_confidence=draft.suggested_confidence,
        model_version=draft.model_version,
        outcome=Outcome.CASE.value,
    )


def _new_case(draft: CallDraft, principal: Principal) -> NewCase:
    assert draft.category_code is not None and draft.lon is not None and draft.lat is not None
    skip_verification = can_somewhere(principal, "case.verify.request")
    return NewCase(
        category_code=draft.category_code,
        channel=Channel.HOTLINE,
        description=draft.text,
        lon=draft.lon,
        lat=draft.lat,
        nature=draft.nature,
        address=draft.address,
        reporter=Reporter(draft.caller_name, draft.caller_phone),
        component_id=draft.component_id,
        verify_first=False if skip_verification else None,
        address_id=draft.address_id,
    )


def _route(session: Session, draft: CallDraft, by: str, suggested: Route | None) -> Route:
    """The unit the case goes to: the operator's choice, else the rules' ``suggested`` one."""
    if draft.department_code:
        if find_department(session, draft.department_code) is None:
            raise InvalidInput.one(
                "department_code", "known_department", f"no department {draft.department_code!r}"
            )
        return chosen(draft.department_code, by, suggested)
    if suggested is None:
        raise InvalidInput.one(
            "department_code",
            "required",
            "no rule names a unit for this place and category, and the district has no "
            "government unit: name the unit",
        )
    return suggested


def _as_case(
    session: Session,
    principal: Principal,
    draft: CallDraft,
    row: HotlineCallRow,
    result: CallResult,
    *,
    clock: Clock,
    rules: DeskRules,
) -> None:
    needs_case_fields(draft)
    created = cases.create_case_in(
        session, principal, _new_case(draft, principal), clock=clock, rules=rules.cases, route=True
    )
    rec = created.case
    now = clock.now()
    today = local_day(rules.cases.calendar, now)
    suggested = route_of_case(session, rec, on=today)
    route = _route(session, draft, principal.actor, suggested)
    store_route(session, rec.id, route, suggested, principal.actor, now)
    limit = rules.hotline.limit_class(
        rec.urgency, rec.category_code, rec.nature, complex_=draft.complex_
    )
    row.case_id, row.feedback_class = rec.id, limit.name
    row.feedback_due_at = now + limit.feedback
    result.duplicates = screen_case_in(session, rec, rules.duplicates, now)
    result.case, result.route, result.limit_class = rec, route, limit
    if not draft.dispatch_now:
        result.waiting = "the operator chose not to dispatch at once"
    elif result.duplicates:
        result.waiting = "proposed as a duplicate: a dispatcher confirms or undoes it first"
    elif not may_dispatch_directly(principal, rec):
        result.waiting = (
            f"the case is {rec.status}: it is dispatched to {route.department_code} once "
            "verified and filed (this desk may not file or dispatch)"
        )
    else:
        rec, route_row = dispatch_in(
            session, principal, rec, clock=clock, rules=rules.cases, response_limit=limit.response
        )
        row.response_due_at = route_row.response_due_at
        result.case, result.dispatched = rec, True


def record_call(
    db: Database, principal: Principal, draft: CallDraft, *, clock: Clock, rules: DeskRules
) -> CallResult:
    """Record a call or message and do what its nature asks; committed when this returns."""
    require_somewhere(principal, "hotline.intake")
    draft = check_draft(draft)
    # A call reads (answers, earlier calls) before it writes: on SQLite two such transactions
    # at once cannot both upgrade to writing, and the second failed at once with "database is
    # locked". Like every case write, it queues on the process's one writer instead.
    with one_writer(db.dialect), db.unit_of_work() as session:
        draft = place_call(session, draft, rules.cases.calendar, clock.now())
        row = _call_row(draft, principal, clock.now())
        result = CallResult(row, Outcome.CASE)
        answer = (
            _consultation_answer(session, draft) if draft.nature is Nature.CONSULTATION else None
        )
        earlier = _repeat_target(session, draft, row.caller_key)
        if answer is not None:
            row.outcome, row.answer_id = Outcome.ANSWERED.value, answer.id
            result.outcome, result.answer = Outcome.ANSWERED, answer
        elif earlier is not None:
            row.outcome, row.case_id = Outcome.REPEAT.value, earlier[0]
            row.repeat_of_call_id = earlier[1]
            row.category_code = get_case(session, earlier[0]).category_code
            result.outcome, result.case = Outcome.REPEAT, get_case(session, earlier[0])
        else:
            _as_case(session, principal, draft, row, result, clock=clock, rules=rules)
        session.add(row)
        session.flush()
        _keep_training_example(session, draft, row, principal, clock, rules)
    return result


def _repeat_target(
    session: Session, draft: CallDraft, key: str | None
) -> tuple[int, int | None] | None:
    """(case id, first call id) when this call is about a case already open."""
    if draft.about_case_id is not None:
        rec = get_case(session, draft.about_case_id)
        if rec.status in _CLOSED:
            raise InvalidInput.one(
                "about_case_id",
                "open_case",
                f"case {rec.number} is {rec.status}: record a new call (or call back on it)",
            )
        first = _first_call_about(session, rec.id)
        return rec.id, first.id if first else None
    earlier = _earlier_open_call(session, key, draft.category_code)
    if earlier is None:
        return None
    assert earlier.case_id is not None
    return earlier.case_id, earlier.repeat_of_call_id or earlier.id


def _keep_training_example(
    session: Session,
    draft: CallDraft,
    row: HotlineCallRow,
    principal: Principal,
    clock: Clock,
    rules: DeskRules,
) -> None:
    """The category the operator recorded the call with is a labelled example for the
    classifier, kept with the call: a call refused leaves no example, and no example is lost."""
    if draft.category_code is None:
        return
    correction = Correction(
        text=draft.text,
        label=draft.category_code,
        at=clock.now(),
        suggested=draft.suggested_category,
        confidence=draft.suggested_confidence,
        model_version=draft.model_version,
        operator=principal.actor,
    )
    keep_correction_in(
        session, rules.classifier_name, correction, call_id=row.id, case_id=row.case_id
    )


@dataclass(frozen=True)
class CallbackResult:
    callback: HotlineCallbackRow
    case: CaseRecord


def record_callback(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    resolved: bool,
    satisfaction: Satisfaction,
    clock: Clock,
    rules: CaseRules,
    note: str = "",
) -> CallbackResult:
    """The requester's answer after the unit reported back. "Not resolved" always sends the case
    back, whoever records it: for rework while it awaits its check or close, reopened once closed
    (done by the system for the requester: ``cases.send_back_for_requester_in``)."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        # Locked: two answers at once send a case back once, and the second sees where it went.
        rec = load_case(session, case_id, lock=True)
        require(principal, "hotline.callback", area_chain=rec.area_chain)
        if rec.status not in _CALLBACK_STATUSES:
            raise InvalidInput.one(
                "case_id",
                "reported_back",
                f"case {rec.number} is {rec.status}: call back once the unit has reported back",
            )
        if len(note) > 2000:
            raise InvalidInput.one("note", "max_length", "at most 2000 characters")
        if not resolved:
            rec = cases.send_back_for_requester_in(
                session,
                principal,
                rec.id,
                answered_under="hotline.callback",
                reason=f"回访未解决 (callback: not resolved) {note.strip()}",
                clock=clock,
                rules=rules,
            )
        row = _answer(session, rec, principal, clock, resolved, satisfaction, note, not resolved)
        return CallbackResult(row, rec)


def _answer(
    session: Session,
    rec: CaseRecord,
    principal: Principal,
    clock: Clock,
    resolved: bool,
    satisfaction: Satisfaction,
    note: str,
    reopened: bool,
) -> HotlineCallbackRow:
    """A callback answer or a reporter's rating: one kind of row, so the rates count both."""
    row = HotlineCallbackRow(
        case_id=rec.id,
        department_code=rec.department_code,
        at=clock.now(),
        operator=principal.actor,
        resolved=resolved,
        satisfaction=satisfaction.value,
        note=note.strip(),
        reopened=reopened,
    )
    session.add(row)
    session.flush()
    return row


def rate_case_in(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    resolved: bool,
    satisfaction: Satisfaction,
    clock: Clock,
    rules: CaseRules,
    note: str = "",
) -> HotlineCallbackRow:
    """The reporter's own rating of a closed case (评价), given in the app instead of on a
    callback. Kept as a callback row, so it counts in the resolution and satisfaction rates
    (and the lake) exactly as an answer the desk records; once per case and reporter, and
    "not resolved" reopens the case as it does on a callback."""
    rec = load_case(session, case_id, lock=True)  # two ratings at once: the second waits
    require(
        principal,
        "case.evaluate",
        area_chain=rec.area_chain,
        department_code=rec.department_code,
        owner_id=rec.reporter_user_id,
    )
    if rec.status != Status.CLOSED.value:
        raise InvalidInput.one(
            "case_id",
            "case_closed",
            f"case {rec.number} is {rec.status}: rate it once it is closed",
        )
    if len(note) > 2000:
        raise InvalidInput.one("note", "max_length", "at most 2000 characters")
    cb = HotlineCallbackRow
    earlier = session.scalar(
        select(cb.id).where(cb.case_id == rec.id, cb.operator == principal.actor).limit(1)
    )
    if earlier is not None:
        raise InvalidInput.one(
            "case_id", "rated_once", f"case {rec.number} is already rated; a case is rated once"
        )
    if not resolved:
        rec = cases.send_back_for_requester_in(
            session,
            principal,
            rec.id,
            answered_under="case.evaluate",
            reason=f"评价未解决 (rating: not resolved) {note.strip()}",
            clock=clock,
            rules=rules,
        )
    return _answer(session, rec, principal, clock, resolved, satisfaction, note, not resolved)


def get_call(session: Session, call_id: int) -> HotlineCallRow:
    row = session.get(HotlineCallRow, call_id)
    if row is None:
        raise NotFound(f"no hotline call {call_id}")
    return row


def list_calls(
    session: Session,
    *,
    outcome: Outcome | None = None,
    operator: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[HotlineCallRow]:
    """Calls newest first; ``before_id`` continues a page after its last call."""
    query = select(HotlineCallRow).order_by(HotlineCallRow.id.desc()).limit(limit)
    if outcome is not None:
        query = query.where(HotlineCallRow.outcome == outcome.value)
    if operator is not None:
        query = query.where(HotlineCallRow.operator == operator)
    if before_id is not None:
        query = query.where(HotlineCallRow.id < before_id)
    return list(session.scalars(query))


def calls_about(session: Session, case_id: int) -> list[HotlineCallRow]:
    """Every call about a case, first first: the first caller and the repeat callers."""
    return list(
        session.scalars(
            select(HotlineCallRow)
            .where(HotlineCallRow.case_id == case_id)
            .order_by(HotlineCallRow.id)
        )
    )


def response_limit_for(session: Session, rules: HotlineRules, rec: CaseRecord) -> timedelta:
    """How soon the unit must contact the requester: from the call's class, else by the rules."""
    first = _first_call_about(session, rec.id)
    if first is not None and first.feedback_class is not None:
        found = rules.classes.get(first.feedback_class)
        if found is not None:
            return found.response
    return rules.limit_class(rec.urgency, rec.category_code, rec.nature).response
