"""Direct dispatch (直派): send a case to the unit its route names, through the case workflow.

The route (unit, rule, explanation) is stored beside the case; dispatching stamps when it left
and by when the unit must contact the requester (the response rate counts it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.cases import services as cases
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.states import Status
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.common import local_day
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.dispatch.models import CaseRouteRow
from onegrid.dispatch.routing.assignment import current_assignment, returned_by
from onegrid.dispatch.routing.domain import Route, RouteRule, chosen
from onegrid.dispatch.routing.queries import location_of, route_for
from onegrid.people.domain import Principal
from onegrid.people.policy import can, require
from onegrid.people.queries import find_department


def case_route(session: Session, case_id: int) -> CaseRouteRow | None:
    """The newest route of a case."""
    return session.scalars(
        select(CaseRouteRow)
        .where(CaseRouteRow.case_id == case_id)
        .order_by(CaseRouteRow.id.desc())
        .limit(1)
    ).first()


# A hotline dispatch stamps its route with the case's own dispatch time; routes stored before
# it did were stamped just before the transition, within this of it.
_SAME_DISPATCH = timedelta(seconds=1)


def standing(row: CaseRouteRow, rec: CaseRecord) -> bool:
    """Whether a stored route still says where the case goes. One decided but not dispatched
    stands until the case is dispatched (by the desk, or elsewhere by the command centre); one
    dispatched stands while that dispatch is the case's last and its unit still has it. After a
    return, or another dispatch, the row is history only (and keeps counting in the rates of
    the month it was dispatched)."""
    if row.dispatched_at is None:
        return rec.dispatched_at is None or rec.dispatched_at < row.decided_at
    return (
        rec.department_code == row.department_code
        and rec.dispatched_at is not None
        and abs(rec.dispatched_at - row.dispatched_at) < _SAME_DISPATCH
    )


@dataclass(frozen=True)
class ExplainedRoute:
    """Where a case goes and why: the stored route, or one worked out from the case's history
    and the rules (``recorded`` is false) for a case that no hotline route was stored for."""

    case_id: int
    department_code: str
    rule: str
    rule_id: int | None
    explanation: str
    suggested_department_code: str | None
    decided_by: str | None
    decided_at: datetime | None
    dispatched_at: datetime | None
    response_due_at: datetime | None
    contacted_at: datetime | None
    recorded: bool


def explained_route(
    session: Session, rec: CaseRecord, *, calendar: WorkingCalendar, now: datetime
) -> ExplainedRoute | None:
    """Every case's route, explained (None only when no rule names a unit and nobody chose one).

    A case dispatched through the case workflow (the command centre), or split to a lead unit,
    has no stored route: who gave it its unit is read from the history and set against what the
    rules suggested that day. A case not yet dispatched gets the rules' suggestion, decided by
    nobody yet; when that is the unit that returned it, the suggestion says so."""
    row = case_route(session, rec.id)
    if row is not None and standing(row, rec):
        return ExplainedRoute(
            rec.id,
            row.department_code,
            row.rule,
            row.rule_id,
            row.explanation,
            row.suggested_department_code,
            row.decided_by,
            row.decided_at,
            row.dispatched_at,
            row.response_due_at,
            row.contacted_at,
            recorded=True,
        )
    entries = history_of(session, rec.id)
    given = current_assignment(entries, rec.department_code, rec.split_parent_id is not None)
    if given is not None:
        suggested = route_of_case(session, rec, on=local_day(calendar, given.at))
        route = chosen(given.department_code, given.actor, suggested)
        decided: tuple[str | None, datetime | None] = (given.actor, given.at)
        sent = rec.dispatched_at or given.at
    else:
        suggested = route_of_case(session, rec, on=local_day(calendar, now))
        if suggested is None:
            return None
        back = returned_by(entries)
        if back is not None and back == suggested.department_code:
            why = (
                f"{suggested.explanation}; {back} returned this case as not its own: the "
                "command centre names the unit"
            )
            suggested = replace(suggested, explanation=why)
        route, decided, sent = suggested, (None, None), None
    return ExplainedRoute(
        rec.id,
        route.department_code,
        route.rule.value,
        route.rule_id,
        route.explanation,
        suggested.department_code if suggested else None,
        *decided,
        dispatched_at=sent,
        response_due_at=None,
        contacted_at=None,
        recorded=False,
    )


def route_of_case(session: Session, rec: CaseRecord, *, on: date) -> Route | None:
    """The route the rules in force on the day ``on`` give the case's category and place."""
    location = location_of(
        rec.lon,
        rec.lat,
        rec.h3_10,
        (
            rec.unit_grid_code,
            rec.community_code,
            rec.subdistrict_code,
            rec.district_code,
            rec.city_code,
        ),
    )
    return route_for(session, rec.category_code, location, rec.component_id, on=on)


def store_route(
    session: Session, case_id: int, route: Route, suggested: Route | None, by: str, now: datetime
) -> CaseRouteRow:
    row = CaseRouteRow(
        case_id=case_id,
        department_code=route.department_code,
        rule=route.rule.value,
        rule_id=route.rule_id,
        explanation=route.explanation,
        suggested_department_code=suggested.department_code if suggested else None,
        decided_by=by,
        decided_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _known(session: Session, code: str) -> None:
    if find_department(session, code) is None:
        raise InvalidInput.one("department_code", "known_department", f"no department {code!r}")


def dispatch_in(
    session: Session,
    principal: Principal,
    rec: CaseRecord,
    *,
    clock: Clock,
    rules: CaseRules,
    response_limit: timedelta,
    department_code: str | None = None,
) -> tuple[CaseRecord, CaseRouteRow]:
    """Send the case to its routed unit (or ``department_code``), filing it first when it waits
    for filing and the principal may file. The route's unit becomes the case's department."""
    # Who may not dispatch hears no more than that: not which unit returned the case, nor
    # where the rules would send it.
    require(principal, "case.dispatch", area_chain=rec.area_chain)
    row = case_route(session, rec.id)
    if row is not None and not standing(row, rec):
        row = None
    back = returned_by(history_of(session, rec.id))
    now = clock.now()
    suggested = route_of_case(session, rec, on=local_day(rules.calendar, now))
    if department_code:
        _known(session, department_code)
        current = (
            Route(row.department_code, RouteRule(row.rule), row.explanation, row.rule_id)
            if row is not None
            else suggested
        )
        route = chosen(department_code, principal.actor, current)
        if row is None or route.department_code != row.department_code:
            row = store_route(session, rec.id, route, suggested, principal.actor, now)
    elif row is None:
        if suggested is None:
            raise InvalidInput.one(
                "department_code",
                "required",
                "no rule names a unit for this place and category: name one",
            )
        if suggested.department_code == back:
            raise InvalidInput.one(
                "department_code",
                "required",
                f"{back} returned this case as not its own, and the rules name it again:"
                " name the unit to send it to",
            )
        row = store_route(session, rec.id, suggested, suggested, principal.actor, now)
    if rec.status == Status.TO_FILE.value:
        require(principal, "case.file", area_chain=rec.area_chain)
        rec = cases.act_in(
            session,
            principal,
            rec.id,
            Command(Action.FILE, reason="12345 直派"),
            clock=clock,
            rules=rules,
        )
    rec = cases.act_in(
        session,
        principal,
        rec.id,
        Command(Action.DISPATCH, reason=row.explanation[:500], department_code=row.department_code),
        clock=clock,
        rules=rules,
    )
    # The case's own dispatch time: the route stands while that dispatch is the case's last.
    row.dispatched_at = rec.dispatched_at or now
    row.response_due_at = row.dispatched_at + response_limit
    session.flush()
    return rec, row


def may_dispatch_directly(principal: Principal, rec: CaseRecord) -> bool:
    """Whether the principal can take the case from where it stands to dispatched."""
    area = rec.area_chain
    if rec.status == Status.TO_DISPATCH.value:
        return can(principal, "case.dispatch", area_chain=area)
    if rec.status == Status.TO_FILE.value:
        return can(principal, "case.file", area_chain=area) and can(
            principal, "case.dispatch", area_chain=area
        )
    return False


def dispatch_routed(
    db: Database,
    principal: Principal,
    case_id: int,
    *,
    clock: Clock,
    rules: CaseRules,
    response_limit: timedelta,
    department_code: str | None = None,
) -> tuple[CaseRecord, CaseRouteRow]:
    """Dispatch one case to its routed unit, in its own transaction."""
    with db.unit_of_work() as session:
        rec = get_case(session, case_id)
        return dispatch_in(
            session,
            principal,
            rec,
            clock=clock,
            rules=rules,
            response_limit=response_limit,
            department_code=department_code,
        )


def record_contact(db: Database, principal: Principal, case_id: int, *, clock: Clock) -> datetime:
    """The unit has contacted the requester (先行联系): counted by the response rate."""
    with db.unit_of_work() as session:
        rec = get_case(session, case_id)
        require(
            principal,
            "case.handle",
            area_chain=rec.area_chain,
            department_code=rec.department_code,
        )
        row = case_route(session, case_id)
        if row is None or row.dispatched_at is None or not standing(row, rec):
            raise NotFound(f"case {rec.number} has not been dispatched through a route")
        if row.contacted_at is None:
            row.contacted_at = clock.now()
        return row.contacted_at
