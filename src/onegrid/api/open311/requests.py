"""Service requests: POST (create a case), GET with filters, one request, tokens.

A service request is a case; its ``service_request_id`` is the case number. Reporters' names,
phones and e-mails are personal data: they are stored with the case and never returned here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onegrid.api.deps import AppClock, AppSettings, DbSession, get_database
from onegrid.api.open311.errors import (
    Open311Error,
    bad_request,
    error_response,
    forbidden,
    from_domain,
    not_found,
)
from onegrid.api.open311.formats import render
from onegrid.api.open311.mapping import extended_of, request_of, statuses_for
from onegrid.api.open311.params import (
    check_format,
    check_jurisdiction,
    comma_list,
    positive_int,
    text,
    when,
)
from onegrid.api.open311.posting import (
    new_case_of,
    read_form,
    require_key,
    require_service_code,
    unknown_service,
)
from onegrid.api.open311.search import RequestQuery, find_requests, numbers_of
from onegrid.api.open311.services import RESPONSES
from onegrid.assets.queries import current_categories, find_category
from onegrid.cases.config import case_rules
from onegrid.cases.history import history_of
from onegrid.cases.records import CaseRecord
from onegrid.cases.services import create_case
from onegrid.core.errors import DomainError
from onegrid.db.session import Database
from onegrid.people.credentials import principal_from_api_key
from onegrid.people.policy import can_somewhere
from onegrid.people.queries import list_departments

router = APIRouter()
WINDOW = timedelta(days=90)
LIMIT = 1000
POST_RESPONSES: dict[int | str, dict[str, object]] = {
    **RESPONSES,
    403: {"description": "an Open311 error list (missing or wrong api_key)"},
}


async def _form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(_form)]
Db = Annotated[Database, Depends(get_database)]


@router.post(
    "/requests.{fmt}",
    summary="Open311: post a service request (form-encoded or multipart; api_key required)",
    response_class=Response,
    responses=POST_RESPONSES,
)
def post_request(
    fmt: str, request: Request, form: Form, db: Db, clock: AppClock, settings: AppSettings
) -> Response:
    try:
        check_format(fmt)
        fields = read_form(form, dict(request.query_params))
        raw_key = require_key(fields)
        with db.unit_of_work() as session:
            principal = principal_from_api_key(session, raw_key, clock)
            if principal is None or not can_somewhere(principal, "open311.post"):
                raise forbidden("invalid api_key: it is unknown, revoked or not an Open311 key")
            check_jurisdiction(fields.values, settings)
            code = require_service_code(fields)
            category = find_category(session, code)
            if category is None:
                raise unknown_service(code)
            new = new_case_of(fields, category)
        created = create_case(
            db,
            principal,
            new,
            clock=clock,
            rules=case_rules(settings.timezone),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        body = [
            {"service_request_id": created.case.number, "service_notice": None, "account_id": None}
        ]
        return render(fmt, body, "service_requests", "request")
    except DomainError as exc:
        return error_response(fmt, from_domain(exc))
    except Open311Error as exc:
        return error_response(fmt, exc)


def _window(params: Any, now: datetime) -> tuple[datetime, datetime | None]:
    start, end = when(params, "start_date"), when(params, "end_date")
    if start is None:
        return (now - WINDOW, None) if end is None else (end - WINDOW, end)
    if end is None:
        return start, start + WINDOW
    if end <= start:
        raise bad_request("end_date must come after start_date")
    if end - start > WINDOW:
        raise bad_request("start_date to end_date spans at most 90 days")
    return start, end


def _bbox(params: Any) -> tuple[float, float, float, float] | None:
    parts = comma_list(params, "bbox")
    if not parts:
        return None
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise bad_request("bbox is minLng,minLat,maxLng,maxLat (four numbers)") from None
    if west > east or south > north:
        raise bad_request("bbox is minLng,minLat,maxLng,maxLat with min <= max")
    return west, south, east, north


def _statuses(params: Any) -> tuple[str, ...]:
    wanted = tuple(s.lower() for s in comma_list(params, "status"))
    unknown = [s for s in wanted if s not in ("open", "closed")]
    if unknown:
        raise bad_request(f"status is open, closed or both (not {unknown[0]!r})")
    if len(set(wanted)) in (0, 2):
        return ()
    return statuses_for(wanted[0])


def query_of(params: Any, now: datetime) -> RequestQuery:
    ids = comma_list(params, "service_request_id")
    if ids:
        return RequestQuery(numbers=ids, limit=LIMIT)
    start, end = _window(params, now)
    page = positive_int(params, "page", 1, 1_000_000)
    size = positive_int(params, "page_size", LIMIT, LIMIT)
    return RequestQuery(
        categories=tuple(c.upper() for c in comma_list(params, "service_code")),
        statuses=_statuses(params),
        requested_from=start,
        requested_to=end,
        updated_after=when(params, "updated_after"),
        updated_before=when(params, "updated_before"),
        text=text(params, "q"),
        bbox=_bbox(params),
        offset=(page - 1) * size,
        limit=size,
    )


def requests_body(
    session: Session, records: list[CaseRecord], extensions: bool
) -> list[dict[str, Any]]:
    names = {c.code: c.name_zh or c.name_en for c in current_categories(session)}
    agencies = {d.code: d.name_zh or d.name_en or d.code for d in list_departments(session)}
    parents = (
        numbers_of(session, (r.merged_into_id or r.split_parent_id or 0 for r in records))
        if extensions
        else {}
    )
    out: list[dict[str, Any]] = []
    for rec in records:
        agency = (
            agencies.get(rec.department_code, rec.department_code) if rec.department_code else None
        )
        item = request_of(rec, names.get(rec.category_code, rec.category_code), agency)
        if extensions:
            parent = parents.get(rec.merged_into_id or rec.split_parent_id or 0)
            item.update(extended_of(rec, parent, history_of(session, rec.id)))
        out.append(item)
    return out


def _extensions(params: Any) -> bool:
    return (text(params, "extensions") or "").lower() == "true"


@router.get(
    "/requests.{fmt}",
    summary="Open311: query service requests (90-day window, at most 1000; page/page_size)",
    response_class=Response,
    responses=RESPONSES,
)
def get_requests(
    fmt: str, request: Request, session: DbSession, clock: AppClock, settings: AppSettings
) -> Response:
    params = request.query_params
    try:
        check_format(fmt)
        check_jurisdiction(params, settings)
        records = find_requests(session, query_of(params, clock.now()))
        body = requests_body(session, records, _extensions(params))
        return render(fmt, body, "service_requests", "request")
    except Open311Error as exc:
        return error_response(fmt, exc)


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="Open311: one service request (a one-element list)",
    response_class=Response,
    responses=RESPONSES,
)
def get_request(
    service_request_id: str,
    fmt: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
) -> Response:
    params = request.query_params
    try:
        check_format(fmt)
        check_jurisdiction(params, settings)
        records = find_requests(session, RequestQuery(numbers=(service_request_id,), limit=1))
        if not records:
            raise not_found(f"no service request {service_request_id!r}")
        body = requests_body(session, records, _extensions(params))
        return render(fmt, body, "service_requests", "request")
    except Open311Error as exc:
        return error_response(fmt, exc)


@router.get(
    "/tokens/{token}.{fmt}",
    summary="Open311: the service_request_id behind a token",
    response_class=Response,
    responses=RESPONSES,
)
def get_token(
    token: str, fmt: str, request: Request, session: DbSession, settings: AppSettings
) -> Response:
    """Every service is ``realtime``: a request gets its id at once and the token a client
    may hold is that id, so a token resolves to the request of the same number."""
    try:
        check_format(fmt)
        check_jurisdiction(request.query_params, settings)
        records = find_requests(session, RequestQuery(numbers=(token,), limit=1))
        if not records:
            raise not_found(f"unknown token {token!r}")
        body = [{"service_request_id": records[0].number, "token": token}]
        return render(fmt, body, "service_requests", "request")
    except Open311Error as exc:
        return error_response(fmt, exc)
