"""The 12345 hotline desk over HTTP: preview, record a call, dispatch, contact, callback,
duplicates, the knowledge base and the three rates.

Each write commits inside its service before the response is sent. Callers' personal data is
masked for roles that may not see it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from onegrid.api.auth import CurrentPrincipal
from onegrid.api.deps import AppClock, AppSettings, DbSession, get_database
from onegrid.api.ids import row_id
from onegrid.api.v1.cases import CaseId
from onegrid.cases.config import case_rules
from onegrid.cases.queries import get_case
from onegrid.cases.records import CaseRecord
from onegrid.core.errors import NotFound
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.dispatch.config import dispatch_settings, duplicate_rules, hotline_rules
from onegrid.dispatch.duplicates.services import (
    ProposalStatus,
    confirm_duplicate,
    list_proposals,
    undo_duplicate,
)
from onegrid.dispatch.hotline.domain import Outcome
from onegrid.dispatch.hotline.knowledge import search_answers
from onegrid.dispatch.hotline.preview import preview_call
from onegrid.dispatch.hotline.queries import hotline_rates, month_period
from onegrid.dispatch.hotline.requesters import requesters_of
from onegrid.dispatch.hotline.schemas import (
    AnswerOut,
    CallbackIn,
    CallbackOut,
    CallIn,
    CallOut,
    CallResultOut,
    CaseRouteOut,
    DispatchIn,
    PeriodRatesOut,
    PreviewOut,
    ProposalOut,
    RequesterOut,
    answer_out,
    call_out,
    call_result_out,
    case_route_out,
    preview_out,
    proposal_out,
    rates_out,
    requester_out,
)
from onegrid.dispatch.hotline.services import (
    DeskRules,
    calls_about,
    get_call,
    list_calls,
    record_call,
    record_callback,
    response_limit_for,
)
from onegrid.dispatch.routing.services import (
    case_route,
    dispatch_routed,
    explained_route,
    record_contact,
)
from onegrid.people.domain import Principal
from onegrid.people.policy import can_see_personal_data, require, require_somewhere

router = APIRouter(prefix="/hotline", tags=["hotline"])
Db = Annotated[Database, Depends(get_database)]
CallId = Annotated[
    int, Path(description="A hotline call's id"), row_id(lambda n: f"no hotline call {n}")
]
ProposalId = Annotated[
    int,
    Path(description="A duplicate proposal's id"),
    row_id(lambda n: f"no duplicate proposal {n}"),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Sign in first"},
    403: {"description": "Not allowed for this role, area or department"},
    404: {"description": "No such call, case or proposal"},
    422: {"description": "A broken rule, named in errors[].rule"},
}


def desk_rules(settings: Settings) -> DeskRules:
    s = dispatch_settings()
    return DeskRules(
        case_rules(settings.timezone),
        hotline_rules(),
        duplicate_rules(),
        settings.data_dir,
        s.classifier_name,
    )


def _readable_case(session: Session, principal: Principal, case_id: int) -> CaseRecord:
    rec = get_case(session, case_id)
    require(
        principal,
        "case.read",
        area_chain=rec.area_chain,
        department_code=rec.department_code,
        owner_id=rec.reporter_user_id,
    )
    return rec


@router.post("/preview", summary="What the operator sees before dispatch", responses=_ERRORS)
def preview(
    body: CallIn,
    session: DbSession,
    principal: CurrentPrincipal,
    clock: AppClock,
    settings: AppSettings,
) -> PreviewOut:
    found = preview_call(
        session, principal, body.to_draft(), rules=desk_rules(settings), now=clock.now()
    )
    return preview_out(found)


@router.post(
    "/calls",
    status_code=201,
    summary="Record a call or message: answered, linked to an open case, or a new case",
    responses=_ERRORS,
)
def create_call(
    body: CallIn, db: Db, principal: CurrentPrincipal, clock: AppClock, settings: AppSettings
) -> CallResultOut:
    result = record_call(db, principal, body.to_draft(), clock=clock, rules=desk_rules(settings))
    return call_result_out(result, principal)


@router.get("/calls", summary="Calls, newest first", responses=_ERRORS)
def calls(
    session: DbSession,
    principal: CurrentPrincipal,
    outcome: Outcome | None = None,
    operator: Annotated[str | None, Query(max_length=64)] = None,
    before_id: Annotated[int | None, Query(description="Continue after this call id")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CallOut]:
    require_somewhere(principal, "hotline.intake")
    rows = list_calls(session, outcome=outcome, operator=operator, before_id=before_id, limit=limit)
    cases = {r.case_id: get_case(session, r.case_id) for r in rows if r.case_id is not None}
    return [call_out(r, principal, cases.get(r.case_id) if r.case_id else None) for r in rows]


@router.get("/calls/{call_id}", summary="One call", responses=_ERRORS)
def read_call(call_id: CallId, session: DbSession, principal: CurrentPrincipal) -> CallOut:
    require_somewhere(principal, "hotline.intake")
    row = get_call(session, call_id)
    rec = _readable_case(session, principal, row.case_id) if row.case_id else None
    return call_out(row, principal, rec)


@router.get(
    "/cases/{case_id}/calls", summary="Every call about a case (repeat callers)", responses=_ERRORS
)
def case_calls(case_id: CaseId, session: DbSession, principal: CurrentPrincipal) -> list[CallOut]:
    rec = _readable_case(session, principal, case_id)
    return [call_out(r, principal, rec) for r in calls_about(session, case_id)]


@router.get(
    "/cases/{case_id}/requesters",
    summary="Everyone to keep informed: the reporter, callers, merged duplicates' reporters",
    responses=_ERRORS,
)
def case_requesters(
    case_id: CaseId, session: DbSession, principal: CurrentPrincipal, clock: AppClock
) -> list[RequesterOut]:
    rec = _readable_case(session, principal, case_id)
    visible = can_see_personal_data(principal, rec.area_chain, rec.department_code)
    return [requester_out(r, visible) for r in requesters_of(session, case_id, clock.now())]


@router.get(
    "/cases/{case_id}/route",
    summary="Where the case goes and why",
    description="Every case's route, explained: the one the hotline desk stored, else the "
    "command centre's dispatch set against what the rules suggested, else the rules' "
    "suggestion for a case not yet dispatched. 404 only when no rule names a unit.",
    responses=_ERRORS,
)
def read_route(
    case_id: CaseId,
    session: DbSession,
    principal: CurrentPrincipal,
    clock: AppClock,
    settings: AppSettings,
) -> CaseRouteOut:
    rec = _readable_case(session, principal, case_id)
    calendar = case_rules(settings.timezone).calendar
    route = explained_route(session, rec, calendar=calendar, now=clock.now())
    if route is None:
        raise NotFound(f"no rule names a unit for case {rec.number}, and nobody has chosen one")
    return case_route_out(route)


@router.post(
    "/cases/{case_id}/dispatch",
    summary="Direct dispatch (直派) to the routed unit, or to the unit named",
    responses=_ERRORS,
)
def dispatch(
    case_id: CaseId,
    body: DispatchIn,
    db: Db,
    principal: CurrentPrincipal,
    clock: AppClock,
    settings: AppSettings,
) -> CaseRouteOut:
    with db.reader() as session:
        limit = response_limit_for(session, hotline_rules(), get_case(session, case_id))
    _, row = dispatch_routed(
        db,
        principal,
        case_id,
        clock=clock,
        rules=case_rules(settings.timezone),
        response_limit=limit,
        department_code=body.department_code,
    )
    return case_route_out(row)


@router.post(
    "/cases/{case_id}/contact",
    summary="The unit has contacted the requester (counted by the response rate)",
    responses=_ERRORS,
)
def contact(case_id: CaseId, db: Db, principal: CurrentPrincipal, clock: AppClock) -> CaseRouteOut:
    record_contact(db, principal, case_id, clock=clock)
    with db.reader() as session:
        row = case_route(session, case_id)
        assert row is not None
        return case_route_out(row)


@router.post(
    "/cases/{case_id}/callbacks",
    status_code=201,
    summary="The requester's answer when called back; not resolved reopens the case",
    responses=_ERRORS,
)
def callback(
    case_id: CaseId,
    body: CallbackIn,
    db: Db,
    principal: CurrentPrincipal,
    clock: AppClock,
    settings: AppSettings,
) -> CallbackOut:
    result = record_callback(
        db,
        principal,
        case_id,
        resolved=body.resolved,
        satisfaction=body.satisfaction,
        note=body.note,
        clock=clock,
        rules=case_rules(settings.timezone),
    )
    cb = result.callback
    return CallbackOut(
        id=cb.id,
        case_id=cb.case_id,
        department_code=cb.department_code,
        at=cb.at,
        resolved=cb.resolved,
        satisfaction=cb.satisfaction,
        reopened=cb.reopened,
        case_status=result.case.status,
    )


@router.get("/knowledge", summary="Search the knowledge base of answers", responses=_ERRORS)
def knowledge(
    session: DbSession,
    principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[AnswerOut]:
    require_somewhere(principal, "hotline.intake")
    return [answer_out(a) for a in search_answers(session, q, limit)]


@router.get("/duplicates", summary="Duplicate proposals", responses=_ERRORS)
def duplicates(
    session: DbSession,
    principal: CurrentPrincipal,
    status: ProposalStatus | None = ProposalStatus.PROPOSED,
    case_id: int | None = None,
) -> list[ProposalOut]:
    require_somewhere(principal, "case.merge")
    return [proposal_out(p) for p in list_proposals(session, status=status, case_id=case_id)]


@router.post(
    "/duplicates/{proposal_id}/confirm",
    summary="Confirm: merge the report into the existing case",
    responses=_ERRORS,
)
def confirm(
    proposal_id: ProposalId,
    db: Db,
    principal: CurrentPrincipal,
    clock: AppClock,
    settings: AppSettings,
) -> ProposalOut:
    done = confirm_duplicate(
        db, principal, proposal_id, clock=clock, rules=case_rules(settings.timezone)
    )
    return proposal_out(done)


@router.post(
    "/duplicates/{proposal_id}/undo",
    summary="Undo: not a duplicate, the report stays its own case",
    responses=_ERRORS,
)
def undo(
    proposal_id: ProposalId, db: Db, principal: CurrentPrincipal, clock: AppClock
) -> ProposalOut:
    return proposal_out(undo_duplicate(db, principal, proposal_id, clock=clock))


@router.get(
    "/rates",
    summary="Response, resolution and satisfaction rates of every unit for a month",
    responses=_ERRORS,
)
def rates(
    session: DbSession,
    principal: CurrentPrincipal,
    settings: AppSettings,
    month: Annotated[str, Query(description="YYYY-MM", max_length=7)],
) -> PeriodRatesOut:
    require_somewhere(principal, "analytics.read")
    period = month_period(month, settings.timezone)
    rules = hotline_rules()
    return PeriodRatesOut(
        period=period.label,
        basically_satisfied_weight=rules.basically_satisfied_weight,
        units=[rates_out(r) for r in hotline_rates(session, period, rules)],
    )
