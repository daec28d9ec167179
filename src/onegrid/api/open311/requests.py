"""Service requests: POST (create a case), GET with filters, one request, tokens.

A service request is a case; its ``service_request_id`` is the case number. Reporters' names,
phones and e-mails are personal data: they are stored with the case and never returned here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from onegrid.api.open311.deps import AppClock, AppSettings, Db, Form
from onegrid.api.open311.errors import (
    Open311Error,
    bad_request,
    error_response,
    forbidden,
    from_domain,
    not_found,
)
from onegrid.api.open311.formats import render
from onegrid.api.open311.mapping import (
    NO_EXTRAS,
    extended_of,
    merged_notes,
    request_of,
    statuses_for,
)
from onegrid.api.open311.names import names
from onegrid.api.open311.params import (
    Jurisdiction,
    area_of,
    check_format,
    check_jurisdiction,
    client_of,
    comma_list,
    decimal,
    flag,
    positive_int,
    public_base,
    query_parameters,
    text,
    when,
    whole,
    window,
)
from onegrid.api.open311.posting import (
    AddressRegister,
    PostForm,
    check_in_area,
    located_by,
    read_form,
    require_key,
    require_service_code,
    submission_of,
    unknown_service,
)
from onegrid.api.open311.recording import Recorded, create_request_in
from onegrid.api.open311.reply import reply
from onegrid.api.open311.search import (
    SORTS,
    RequestQuery,
    extras_of,
    find_requests,
    histories_of,
    numbers_of,
)
from onegrid.api.open311.services import RESPONSES
from onegrid.assets.queries import find_category
from onegrid.cases.attachments import AttachmentStore
from onegrid.cases.config import case_rules, cases_settings
from onegrid.cases.domain.states import Channel
from onegrid.cases.services.common import local_day
from onegrid.core.clock import Clock
from onegrid.core.errors import DomainError
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.db.writer import GroupCommit
from onegrid.dispatch.config import duplicate_rules
from onegrid.grid.location import locate
from onegrid.people.credentials import principal_from_api_key
from onegrid.people.domain import Principal

router = APIRouter()
LIMIT = 1000
OFFSET_MAX = 1_000_000_000
POST_RESPONSES: dict[int | str, dict[str, object]] = {
    **RESPONSES,
    403: {"description": "an Open311 error list (missing or wrong api_key)"},
}


@router.post(
    "/requests.{fmt}",
    summary="Open311: post a service request (form-encoded or multipart; api_key required)",
    description=(
        "Located by `lat` and `long` (WGS84), or, without them, by `address_id` or "
        "`address_string`, looked up in the city's standard address register (标准地址库; a "
        "string matches only as registered, ignoring full/half width, case, spaces and "
        "punctuation). An address the register does not hold is a 400 naming the field. "
        "The register's id of the address is kept (GET shows it as `address_id`), beside a "
        "point too when the register holds the `address_id` sent."
    ),
    response_class=Response,
    responses=POST_RESPONSES,
)
async def post_request(fmt: str, request: Request, form: Form) -> Response:
    # The app's state read here, not through a dependency each (about 10 µs apiece): the post
    # is the busiest Open311 call. It stays on the event loop, but for its two transactions,
    # and holds no thread of the pool while its write waits (ADR 0011).
    state = request.app.state
    clock: Clock = state.clock
    settings: Settings = state.settings
    try:
        check_format(fmt)
        fields = read_form(form, request.query_params.multi_items())
        raw_key = require_key(fields)
        # The client first, in a transaction of its own that keeps the key's last use: inside
        # the shared one, that write would make every refused post send its group to run alone.
        principal = await anyio.to_thread.run_sync(_client, state.db, raw_key, clock)
        writes: GroupCommit = state.writes
        # One transaction, shared with the posts and reports that arrive at the same time
        # (group commit, ADR 0011): on SQLite every read comes before the case service's first
        # write, so a refused post leaves the others' writes alone.
        key = request.headers.get("Idempotency-Key")
        rec = await writes.submit(
            lambda session: _post_in(session, principal, fields, clock, settings, key)
        )
        body = [
            {
                "service_request_id": rec.case.number,
                "service_notice": duplicate_notice(rec.duplicate_of),
                "account_id": None,
            }
        ]
        return render(fmt, body, "service_requests", "request")
    except DomainError as exc:
        return error_response(fmt, from_domain(exc))
    except Open311Error as exc:
        return error_response(fmt, exc)


def _client(db: Database, raw_key: str, clock: Clock) -> Principal:
    with db.unit_of_work() as session:
        return client_of(session, raw_key, clock)


def _post_in(
    session: Session,
    principal: Principal,
    fields: PostForm,
    clock: Clock,
    settings: Settings,
    idempotency_key: str | None,
) -> Recorded:
    scope = check_jurisdiction(fields.values, settings)
    code = require_service_code(fields)
    category = find_category(session, code)
    if category is None:
        raise unknown_service(code)
    max_bytes = cases_settings().attachment_max_bytes
    rules = case_rules(settings.timezone)
    day = local_day(rules.calendar, clock.now())
    register = AddressRegister(session, day)
    sub = submission_of(fields, category, clock.now(), max_bytes, register)
    if scope is not None:
        # The case service places the point again (from the same cached grid).
        where = locate(session, sub.new.lon, sub.new.lat, day)
        check_in_area(scope, sub.new, where, located_by(fields))
    return create_request_in(
        session,
        principal,
        sub,
        clock=clock,
        rules=rules,
        store=AttachmentStore(settings.data_dir / "attachments"),
        idempotency_key=idempotency_key,
        duplicates=duplicate_rules(),
    )


def duplicate_notice(numbers: Sequence[str]) -> str | None:
    """What the reporter of a likely duplicate is told: the request stands (its id is valid
    and can be followed), and if a dispatcher confirms it repeats an open one, it is merged
    into that one, whose progress the reporter then follows (OPEN311.md 1.5: service_notice)."""
    if not numbers:
        return None
    first = numbers[0]
    return (
        f"可能与已受理的 {first} 重复：核实后将合并到 {first}，并告知您处理进展。"
        f" This may repeat request {first}, already open nearby: once a dispatcher confirms,"
        f" yours is merged into {first} and you are kept informed of its progress."
    )


def _bbox(params: Any) -> tuple[float, float, float, float] | None:
    parts = comma_list(params, "bbox")
    if not parts:
        return None
    numbers = [n for n in map(decimal, parts) if n is not None]
    if len(parts) != 4 or len(numbers) != 4:
        raise bad_request("bbox is minLng,minLat,maxLng,maxLat (four decimal numbers)")
    west, south, east, north = numbers
    if west > east or south > north:
        raise bad_request("bbox is minLng,minLat,maxLng,maxLat with min <= max")
    return west, south, east, north


RADIUS_MAX = 5000.0


def _near(params: Any) -> tuple[float, float, float] | None:
    """``lat`` + ``long`` + ``radius`` (metres): requests near a point, e.g. before reporting
    a duplicate (OPEN311.md 3.4)."""
    lat, lon, radius = text(params, "lat"), text(params, "long"), text(params, "radius")
    if lat is None and lon is None and radius is None:
        return None
    if lat is None or lon is None:
        raise bad_request("lat and long go together: send both (and radius in metres)")
    lat_v, lon_v, radius_v = decimal(lat), decimal(lon), decimal(radius or "100")
    if lat_v is None or lon_v is None or radius_v is None:
        raise bad_request("lat, long and radius are decimal numbers")
    if not (-90 <= lat_v <= 90 and -180 <= lon_v <= 180):
        raise bad_request("lat is -90..90 and long is -180..180 (WGS84)")
    if not 0 < radius_v <= RADIUS_MAX:
        raise bad_request(f"radius is in metres, above 0 and at most {RADIUS_MAX:,.0f}")
    return lon_v, lat_v, radius_v


def _statuses(params: Any) -> tuple[str, ...]:
    wanted = tuple(s.lower() for s in comma_list(params, "status"))
    unknown = [s for s in wanted if s not in ("open", "closed")]
    if unknown:
        raise bad_request(f"status is open, closed or both (not {unknown[0]!r})")
    if len(set(wanted)) in (0, 2):
        return ()
    return statuses_for(wanted[0])


def _paging(params: Any) -> tuple[int, int]:
    """``page``/``page_size`` (Chicago, 1-based) or ``limit``/``offset`` (Mark-a-Spot)."""
    if text(params, "limit") or text(params, "offset"):
        size = positive_int(params, "limit", LIMIT, LIMIT)
        skip = whole(text(params, "offset") or "0")
        if skip is None or skip > OFFSET_MAX:
            raise bad_request(f"offset: a whole number from 0 to {OFFSET_MAX:,}")
        return skip, size
    page = positive_int(params, "page", 1, 1_000_000)
    size = positive_int(params, "page_size", LIMIT, LIMIT)
    return (page - 1) * size, size


def _sort(params: Any) -> tuple[str, bool]:
    """Mark-a-Spot's ``sort=[-]created|updated|status|service_code|request_id`` (``-`` for
    descending), and its older ``DESC``/``ASC`` on the requested time."""
    raw = text(params, "sort")
    if raw is None or raw.upper() == "DESC":
        return "created", True
    if raw.upper() == "ASC":
        return "created", False
    key = raw.removeprefix("-")
    if key not in SORTS:
        raise bad_request(
            f"sort: one of {', '.join(SORTS)}, with - in front for descending (not {raw!r})"
        )
    return key, raw.startswith("-")


def query_of(
    params: Any, now: datetime, groups: frozenset[str] | None = None, area: str | None = None
) -> RequestQuery:
    """The query behind the parameters; ``groups`` are the departments ``group_filter``
    limits it to (the caller's, resolved beforehand), ``area`` the jurisdiction's."""
    ids = comma_list(params, "service_request_id")
    sort, descending = _sort(params)
    if ids:
        return RequestQuery(numbers=ids, area=area, sort=sort, descending=descending, limit=LIMIT)
    start, end = window(params, now)
    offset, size = _paging(params)
    return RequestQuery(
        categories=tuple(c.upper() for c in comma_list(params, "service_code")),
        statuses=_statuses(params),
        requested_from=start,
        requested_to=end,
        updated_after=when(params, "updated_after"),
        updated_before=when(params, "updated_before"),
        text=text(params, "q"),
        bbox=_bbox(params),
        departments=comma_list(params, "agency_responsible"),
        near=_near(params),
        groups=groups,
        area=area,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=size,
    )


def groups_of(params: Any, db: Database, clock: Clock) -> frozenset[str] | None:
    """``group_filter=true`` (Mark-a-Spot): only the requests of the caller's organisation,
    here the department its ``api_key`` is scoped to. Without a key the parameter is ignored
    (the list is public anyway); a key of no department sees nothing; a bad key is a 403."""
    if not flag(params, "group_filter"):
        return None
    raw = text(params, "api_key")
    if raw is None:
        return None
    # Its own short transaction: the key's last-used write must not hold the write lock
    # while the list is read.
    with db.unit_of_work() as session:
        principal = principal_from_api_key(session, raw, clock)
    if principal is None:
        raise forbidden("invalid api_key: it is unknown or revoked")
    return principal.department_codes


def requests_body(
    session: Session, records: list[Any], extensions: bool, base: str
) -> list[dict[str, Any]]:
    """``records`` are case records with ``extensions``, else ``search.PlainRequest``s."""
    known = names(session)
    services, agencies = known.services, known.agencies
    open311 = Channel.OPEN311.value
    extras = extras_of(
        session,
        [r.id for r in records],
        base,
        with_answers=extensions,
        open311_ids=[r.id for r in records if r.channel == open311],
    )
    # A merged duplicate names the request it was merged into (every page: its reporter
    # follows that one); extensions also name a split case's parent.
    parents = numbers_of(
        session, (r.merged_into_id or (r.split_parent_id if extensions else None) for r in records)
    )
    histories = histories_of(session, [r.id for r in records]) if extensions else {}
    out: list[dict[str, Any]] = []
    for rec in records:
        dept, merged = rec.department_code, rec.merged_into_id
        extra = extras.get(rec.id, NO_EXTRAS)
        merged_into = parents.get(merged) if merged else None
        item = request_of(
            rec,
            services.get(rec.category_code, rec.category_code),
            agencies.get(dept, dept) if dept else None,
            extra.media_url,
            merged_notes(merged_into) if merged_into else None,
        )
        if extensions:
            parent = parents.get(merged or rec.split_parent_id or 0)
            item.update(extended_of(rec, parent, histories[rec.id], extra))
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
    fmt: str, request: Request, db: Db, clock: AppClock, settings: AppSettings
) -> Response:
    params = query_parameters(request)

    def body(scope: Jurisdiction | None) -> list[dict[str, Any]]:
        ext = _extensions(params)
        query = query_of(params, clock.now(), groups_of(params, db, clock), area_of(scope))
        with db.reader() as session:
            records = find_requests(session, query, full=ext)
            return requests_body(session, records, ext, public_base(request))

    return reply(fmt, params, settings, body, "service_requests", "request")


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="Open311: one service request (a one-element list)",
    response_class=Response,
    responses=RESPONSES,
)
def get_request(
    service_request_id: str, fmt: str, request: Request, db: Db, settings: AppSettings
) -> Response:
    params = query_parameters(request)

    def body(scope: Jurisdiction | None) -> list[dict[str, Any]]:
        ext = _extensions(params)
        # Another jurisdiction's request is not found here: it is not this one's to show.
        query = RequestQuery(numbers=(service_request_id,), area=area_of(scope), limit=1)
        with db.reader() as session:
            records = find_requests(session, query, full=ext)
            if not records:
                raise not_found(f"no service request {service_request_id!r}")
            return requests_body(session, records, ext, public_base(request))

    return reply(fmt, params, settings, body, "service_requests", "request")


@router.get(
    "/tokens/{token}.{fmt}",
    summary="Open311: the service_request_id behind a token",
    response_class=Response,
    responses=RESPONSES,
)
def get_token(token: str, fmt: str, request: Request, db: Db, settings: AppSettings) -> Response:
    """Every service is ``realtime``: a request gets its id at once and the token a client
    may hold is that id, so a token resolves to the request of the same number."""

    def body(scope: Jurisdiction | None) -> list[dict[str, Any]]:
        query = RequestQuery(numbers=(token,), area=area_of(scope), limit=1)
        with db.reader() as session:
            records = find_requests(session, query)
        if not records:
            raise not_found(f"unknown token {token!r}")
        return [{"service_request_id": records[0].number, "token": token}]

    return reply(fmt, query_parameters(request), settings, body, "service_requests", "request")
