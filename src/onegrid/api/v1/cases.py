"""The case API: create, read, list, one action endpoint per transition, history, attachments.

Each write commits inside its handler, before the response is sent: a 201 means the case is on
disk. Reads check ``case.read`` against the case's area and department; reporters' personal data
is masked for callers who may not see it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import FileResponse
from fastapi.security import APIKeyHeader, APIKeyQuery, OAuth2PasswordBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from onegrid.api.auth import SESSION_COOKIE, TOKEN_URL, principal_in, sent_key
from onegrid.api.background import running
from onegrid.api.ids import row_id
from onegrid.cases import services
from onegrid.cases.attachments import (
    AttachmentStore,
    add_attachment_in,
    attachments_of,
    get_attachment,
)
from onegrid.cases.config import (
    CaseRules,
    case_rules,
    cases_settings,
    release_rule_store,
    use_rule_store,
)
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.lights import Light
from onegrid.cases.domain.states import Channel, Status, Urgency
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import history_of
from onegrid.cases.queries import CaseFilter, case_parties, get_case, list_cases, reach_clause
from onegrid.cases.records import CaseRecord
from onegrid.cases.scheduler import run_forever
from onegrid.cases.schemas import (
    AttachmentOut,
    CaseCreate,
    CaseOut,
    CasePageOut,
    CheckIn,
    DispatchIn,
    ExtensionApproveIn,
    ExtensionRequestIn,
    HistoryOut,
    HoldRequestIn,
    MergeIn,
    PartiesOut,
    RatingIn,
    RatingOut,
    SplitIn,
    SplitOut,
    TransitionIn,
    case_out,
)
from onegrid.core.clock import Clock, city_today
from onegrid.core.cursors import ID_MAX
from onegrid.core.errors import InvalidInput, NotAuthenticated, PermissionDenied
from onegrid.core.masking import mask_name
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.db.writer import GroupCommit, one_writer
from onegrid.dispatch.config import duplicate_rules
from onegrid.dispatch.duplicates.services import existing_numbers, screen_case_in, screened_in
from onegrid.dispatch.hotline.domain import Satisfaction
from onegrid.dispatch.hotline.services import rate_case_in
from onegrid.people.domain import ANONYMOUS, Principal, Role
from onegrid.people.policy import (
    can,
    can_see_personal_data,
    reach,
    require,
    require_somewhere,
)
from onegrid.people.tokens import UploadGrant, decode_upload_grant, encode_upload_grant


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves, the case rules follow the revisions saved in its database (the
    cases context's own store, whichever routers serve beside it), and the overdue job runs
    every minute."""
    db: Database = app.state.db
    use_rule_store(db)
    settings = cases_settings()
    job = (
        run_forever(
            db,
            app.state.clock,
            case_rules(app.state.settings.timezone),
            settings.scheduler_interval_seconds,
        )
        if settings.scheduler_enabled
        else None
    )
    try:
        async with running(job):
            yield
    finally:
        release_rule_store(db)


router = APIRouter(prefix="/cases", tags=["cases"], lifespan=_lifespan)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Sign in first"},
    403: {"description": "Not allowed for this role, area or department"},
    404: {"description": "No such case"},
    409: {"description": "Stale version: the body carries the current state"},
    422: {"description": "A broken rule, named in errors[].rule"},
}


# The case endpoints resolve their dependencies on the event loop: a sync dependency costs a
# trip through the thread pool, and a request that holds a pooled connection while queued for a
# thread can starve the pool under load. A create or a transition stays on the loop and awaits
# its write on the group-commit thread; the other endpoints run in one thread each. Either way
# the write is committed before the response, so a 201 means the case is on disk.
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
T = TypeVar("T")
_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_key_query = APIKeyQuery(name="api_key", auto_error=False)


@contextlib.contextmanager
def _request_session(request: Request) -> Iterator[Session]:
    db: Database = request.app.state.db
    session = db.sessions()
    try:
        yield session
    finally:
        session.close()  # rolls back whatever the endpoint did not commit


async def _session(request: Request) -> AsyncIterator[Session]:
    with _request_session(request) as session:
        yield session


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_rules(request: Request) -> CaseRules:
    return case_rules(request.app.state.settings.timezone)


@dataclass(frozen=True)
class Caller:
    """The credentials a request sent, checked by ``api.auth`` when the endpoint asks, in the
    endpoint's own session (or, for the busy writes, in their group commit: ``write``): no
    dependency's thread hop or second session. Nothing is cached: a revoked key or a signed-out
    token is refused on the very next request."""

    request: Request
    bearer: str | None
    header_key: str | None
    query_key: str | None

    async def write(self, work: Callable[[Session, Principal], T]) -> tuple[Principal, T]:
        """``work`` by the caller, in a transaction shared with the other writes that arrive
        at the same time (group commit, ADR 0011), awaited on the event loop. A bearer token or
        session cookie is checked inside it (that only reads); an API key first, in a
        transaction of its own that keeps its last use: that write inside the group would send
        the group to run alone."""
        checked = None
        if sent_key(self.request, self.bearer, self.header_key, self.query_key) is not None:
            checked = await anyio.to_thread.run_sync(self._key_checked)

        def in_group(session: Session) -> tuple[Principal, T]:
            principal = checked or self.principal(session)
            return principal, work(session, principal)

        writes: GroupCommit = self.request.app.state.writes
        return await writes.submit(in_group)

    def _key_checked(self) -> Principal:
        with self.session() as session:
            principal = self.principal(session)
            session.commit()
            return principal

    def principal(self, session: Session) -> Principal:
        request = self.request
        sent = bool(self.bearer or self.header_key or self.query_key)
        sent = sent or "authorization" in request.headers or SESSION_COOKIE in request.cookies
        if not sent:
            return ANONYMOUS
        state = request.app.state
        found = principal_in(
            request,
            session,
            state.clock,
            state.settings,
            self.bearer,
            self.header_key,
            self.query_key,
        )
        return found or ANONYMOUS

    # The busiest endpoints (a create, a transition) read these here rather than through a
    # dependency each: FastAPI's resolution cost about 10 µs a dependency and 30 µs for the
    # session's (a generator), a few per cent of a create's CPU.
    @property
    def clock(self) -> Clock:
        clock: Clock = self.request.app.state.clock
        return clock

    @property
    def settings(self) -> Settings:
        settings: Settings = self.request.app.state.settings
        return settings

    @property
    def rules(self) -> CaseRules:
        return case_rules(self.settings.timezone)

    def session(self) -> contextlib.AbstractContextManager[Session]:
        """A session for the endpoint, closed before it returns (as ``CaseSession``)."""
        return _request_session(self.request)


async def case_caller(
    request: Request,
    bearer: Annotated[str | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_key_header)],
    query_key: Annotated[str | None, Depends(_key_query)],
) -> Caller:
    return Caller(request, bearer, header_key, query_key)


# Closed before the response is sent (see DbSession): the pooled connection goes back at once.
CaseSession = Annotated[Session, Depends(_session, scope="function")]
CaseClock = Annotated[Clock, Depends(_clock)]
CaseSettings = Annotated[Settings, Depends(_settings)]
CaseCaller = Annotated[Caller, Depends(case_caller)]
Rules = Annotated[CaseRules, Depends(get_rules)]


def _one_writer(session: Session) -> contextlib.AbstractContextManager[None]:
    """The whole write, through its commit, as SQLite's one writer (see ``one_writer``)."""
    return one_writer(session.get_bind().dialect.name)


def _expected(body_version: int | None, if_match: str | None) -> int | None:
    if body_version is not None or not if_match:
        return body_version
    text = if_match.strip().removeprefix("W/").strip('"')
    # ASCII only: "²" is a digit to isdigit() but not to int(). The version column is 32-bit,
    # as the ids are.
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= ID_MAX):
        raise InvalidInput.one("If-Match", "version_etag", 'If-Match is a case version, e.g. "3"')
    return int(text)


IfMatch = Annotated[str | None, Header(description='The version read, e.g. "3"')]


# An id no case can have is a case not found, as 0 is (not the database's out-of-range error).
CaseId = Annotated[int, Path(description="The case's id"), row_id(lambda i: f"no case {i}")]


def _out(rec: CaseRecord, principal: Principal, rules: CaseRules, clock: Clock) -> CaseOut:
    return case_out(rec, principal, rules.calendar, clock.now())


def _json(
    model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The body serialised here, in the endpoint's thread: a returned model would be validated
    again, in a second trip through the thread pool, before FastAPI serialised it (the route
    keeps its ``response_model`` for the OpenAPI document)."""
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def _readable(session: Session, principal: Principal, case_id: int) -> CaseRecord:
    rec = get_case(session, case_id)
    if principal.is_anonymous:
        raise NotAuthenticated("sign in to read cases")
    require(
        principal,
        "case.read",
        area_chain=rec.area_chain,
        department_code=rec.department_code,
        owner_id=rec.reporter_user_id,
    )
    return rec


@router.post(
    "",
    status_code=201,
    summary=(
        "Report a problem (any channel); 200 when an Idempotency-Key retry returns it. "
        "A web report's Possible-Duplicate-Of names open cases it may repeat; a reporter who "
        "may not otherwise attach files gets an Upload-Token for this case's photos (30 min)"
    ),
    response_model=CaseOut,
    responses={
        200: {"model": CaseOut, "description": "The earlier case (same key, same body)"},
        **_ERRORS,
    },
)
async def create_case(
    body: CaseCreate,
    caller: CaseCaller,
    idempotency_key: Annotated[
        str | None, Header(description="Retry safely: same key and body → same case")
    ] = None,
) -> Response:
    return await _create(body, caller, idempotency_key)


async def _create(body: CaseCreate, caller: Caller, idempotency_key: str | None) -> Response:
    clock, rules, settings = caller.clock, caller.rules, caller.settings
    new = body.to_new_case()

    def write(session: Session, principal: Principal) -> tuple[services.Created, list[str]]:
        created = services.create_case_in(
            session, principal, new, clock=clock, rules=rules, idempotency_key=idempotency_key
        )
        # The citizen's web report is screened for duplicates, as the hotline's calls and
        # Open311's posts are (ADR 0007); a retry answers as the first time.
        if created.case.channel != Channel.WEB_APP.value:
            return created, []
        proposals = (
            screen_case_in(session, created.case, duplicate_rules(), clock.now())
            if created.created
            else screened_in(session, created.case.id)
        )
        return created, existing_numbers(session, proposals)

    principal, (created, duplicate_of) = await caller.write(write)
    headers = {}
    if duplicate_of:
        # The open cases this report may repeat: a dispatcher confirms (merging it, so its
        # reporter follows that case) or undoes it.
        headers["Possible-Duplicate-Of"] = ", ".join(duplicate_of)
    if not created.created:
        headers["Idempotent-Replayed"] = "true"
    rec = created.case
    if not can(
        principal,
        "case.comment",
        area_chain=rec.area_chain,
        department_code=rec.department_code,
        owner_id=rec.reporter_user_id,
    ):
        # The reporter's photos follow the report, one request each; without this grant an
        # anonymous citizen's would be refused after the case exists (a retry, too, gets one:
        # the first reply may have been lost).
        headers["Upload-Token"] = encode_upload_grant(rec.id, clock.now(), settings.secret_key)[0]
    headers["ETag"] = f'"{rec.version}"'
    headers["Location"] = f"/api/v1/cases/{rec.id}"
    out = _out(rec, principal, rules, clock)
    return _json(out, 201 if created.created else 200, headers)


@router.get(
    "",
    summary="List cases with filters, newest first, by cursor",
    response_model=CasePageOut,
    responses=_ERRORS,
)
def list_cases_endpoint(
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    rules: Rules,
    status: Annotated[list[Status] | None, Query()] = None,
    category: Annotated[str | None, Query(description="A code or a prefix: E01")] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    area: Annotated[str | None, Query(description="An area or unit grid at any level")] = None,
    department: str | None = None,
    urgency: Annotated[list[Urgency] | None, Query()] = None,
    light: Light | None = None,
    overdue: Annotated[bool | None, Query(description="Any step late (or running late)")] = None,
    hold_pending: Annotated[
        bool | None, Query(description="A hold request waits for a shift leader")
    ] = None,
    extension_pending: Annotated[
        bool | None, Query(description="An extension request waits for a shift leader")
    ] = None,
    returned: Annotated[
        bool | None,
        Query(description="A department sent the case back at least once (returns > 0)"),
    ] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    closed_from: datetime | None = None,
    closed_to: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text or a case number")] = None,
    mine: Annotated[
        bool, Query(description="Only the cases the signed-in user reported (我的诉求)")
    ] = False,
    sort: Annotated[str, Query(description="created_at, updated_at or number; '-' = desc")] = (
        "-created_at"
    ),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    principal = caller.principal(session)
    if principal.is_anonymous:
        raise NotAuthenticated("sign in to list cases")
    require_somewhere(principal, "case.read")
    for name, value in (
        ("created_from", created_from),
        ("created_to", created_to),
        ("closed_from", closed_from),
        ("closed_to", closed_to),
    ):
        if value is not None and value.tzinfo is None:
            raise InvalidInput.one(name, "timezone_aware", f"{name} needs a UTC offset (…Z)")
    if mine and principal.user_id is None:
        raise InvalidInput.one("mine", "signed_in_user", "mine needs a signed-in user, not a key")
    now = clock.now()
    page = list_cases(
        session,
        CaseFilter(
            status=tuple(s.value for s in status or ()),
            category=category,
            channel=tuple(c.value for c in channel or ()),
            area=area,
            department=department,
            urgency=tuple(u.value for u in urgency or ()),
            light=light,
            overdue=overdue,
            hold_pending=hold_pending,
            extension_pending=extension_pending,
            returned=returned,
            created_from=created_from,
            created_to=created_to,
            closed_from=closed_from,
            closed_to=closed_to,
            text=q,
            mine=(principal.user_id, principal.actor) if mine else None,
        ),
        now=now,
        reach=reach_clause(reach(principal, "case.read"), principal),
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    session.commit()  # give the connection back before the response is written
    calendar = rules.calendar  # looked up once: it follows saved rule revisions on each read
    out = CasePageOut(
        items=[case_out(r, principal, calendar, now) for r in page.items],
        next_cursor=page.next_cursor,
    )
    return _json(out)  # the schema stays CasePageOut


@router.get(
    "/{case_id}",
    summary="One case, with its clock and light",
    response_model=CaseOut,
    responses=_ERRORS,
)
def read_case(
    case_id: CaseId, session: CaseSession, caller: CaseCaller, clock: CaseClock, rules: Rules
) -> Response:
    principal = caller.principal(session)
    rec = _readable(session, principal, case_id)
    session.commit()
    return _json(_out(rec, principal, rules, clock), headers={"ETag": f'"{rec.version}"'})


@router.get("/{case_id}/history", summary="Every transition, oldest first", responses=_ERRORS)
def case_history(case_id: CaseId, session: CaseSession, caller: CaseCaller) -> list[HistoryOut]:
    principal = caller.principal(session)
    rec = _readable(session, principal, case_id)
    entries = history_of(session, case_id)
    session.commit()
    out = [HistoryOut.of(e) for e in entries]
    if can_see_personal_data(
        principal, rec.area_chain, rec.department_code, owner_id=rec.reporter_user_id
    ):
        return out
    # The reporter's own account name (often a phone number) is personal data too.
    reporter = f"user:{rec.reporter_user_id}" if rec.reporter_user_id is not None else None
    for h in out:
        if h.actor == reporter or h.role == Role.CITIZEN.value:
            h.actor_name = mask_name(h.actor_name) or ""
            h.actor = "reporter"
    return out


@router.get(
    "/{case_id}/parties",
    summary="The case's located grid and the parties responsible there",
    responses=_ERRORS,
)
def case_parties_endpoint(
    case_id: CaseId,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    settings: CaseSettings,
) -> PartiesOut:
    principal = caller.principal(session)
    rec = _readable(session, principal, case_id)
    parties = case_parties(session, rec, on=city_today(clock, settings.timezone))
    session.commit()
    return PartiesOut.of(parties)


def _store(settings: Settings) -> AttachmentStore:
    return AttachmentStore(settings.data_dir / "attachments")


def _upload_grant(token: str | None, settings: Settings) -> UploadGrant | None:
    if token is None:
        return None
    grant = decode_upload_grant(token.strip(), settings.secret_key)
    if grant is None:
        raise PermissionDenied(
            "Upload-Token refused (upload_grant_invalid): it is not a grant this server signed"
        )
    return grant


@router.post(
    "/{case_id}/attachments",
    status_code=201,
    summary=(
        "Attach a photo or file (JPEG, PNG, WebP, GIF, PDF; checked by content); with the "
        "create reply's Upload-Token, its reporter's photos (at most 5, within 30 minutes)"
    ),
    responses=_ERRORS,
)
def upload_attachment(
    case_id: CaseId,
    file: UploadFile,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    settings: CaseSettings,
    upload_token: Annotated[
        str | None,
        Header(description="The create reply's grant, for a reporter who may not comment"),
    ] = None,
) -> AttachmentOut:
    grant = _upload_grant(upload_token, settings)
    principal = caller.principal(session)
    limit = cases_settings().attachment_max_bytes
    data = file.file.read(limit + 1)
    with _one_writer(session):
        attachment = add_attachment_in(
            session,
            principal,
            case_id,
            filename=file.filename or "",
            data=data,
            clock=clock,
            store=_store(settings),
            max_bytes=limit,
            grant=grant,
        )
        session.commit()
    return AttachmentOut.of(attachment)


@router.get("/{case_id}/attachments", summary="The case's attachments", responses=_ERRORS)
def list_attachments(
    case_id: CaseId, session: CaseSession, caller: CaseCaller
) -> list[AttachmentOut]:
    principal = caller.principal(session)
    _readable(session, principal, case_id)
    found = attachments_of(session, case_id)
    session.commit()
    return [AttachmentOut.of(a) for a in found]


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    summary="Download an attachment",
    response_class=FileResponse,
    responses=_ERRORS,
)
def download_attachment(
    case_id: CaseId,
    attachment_id: int,
    session: CaseSession,
    caller: CaseCaller,
    settings: CaseSettings,
) -> FileResponse:
    principal = caller.principal(session)
    _readable(session, principal, case_id)
    a = get_attachment(session, case_id, attachment_id)
    session.commit()
    return FileResponse(
        _store(settings).path_for(a.sha256), media_type=a.media_type, filename=a.filename
    )


async def _transition(caller: Caller, case_id: int, cmd: Command, expected: int | None) -> Response:
    clock, rules = caller.clock, caller.rules
    principal, rec = await caller.write(
        lambda session, principal: services.act_in(
            session, principal, case_id, cmd, clock=clock, rules=rules, expected_version=expected
        )
    )
    return _json(_out(rec, principal, rules, clock))


def _simple_endpoint(action: Action, summary: str) -> None:
    async def endpoint(
        case_id: CaseId, body: TransitionIn, caller: CaseCaller, if_match: IfMatch = None
    ) -> Response:
        cmd = Command(action, reason=body.reason, attachments=tuple(body.attachments))
        return await _transition(caller, case_id, cmd, _expected(body.expected_version, if_match))

    endpoint.__name__ = f"{action.value}_case"
    path = "/{case_id}/" + action.value.replace("_", "-")
    router.post(path, summary=summary, response_model=CaseOut, responses=_ERRORS)(endpoint)


_SIMPLE: list[tuple[Action, str]] = [
    (Action.VERIFY, "Verify a public report on site (inspector)"),
    (Action.FILE, "File the case (shift leader)"),
    (Action.CANCEL, "Cancel an invalid report (shift leader; reason required)"),
    (Action.ACCEPT, "Accept a dispatched case (department)"),
    (Action.RETURN, "Return a wrongly dispatched case to the command centre (reason required)"),
    (Action.HANDLE, "Record handling progress (department; reason = the note)"),
    (Action.REPORT_BACK, "Report the result back with photos (department)"),
    (Action.CLOSE, "Close the case after a passed check (shift leader)"),
    (Action.REWORK, "Send the case back for rework (shift leader; reason required)"),
    (Action.EXTEND_REFUSE, "Refuse the pending extension (shift leader; reason required)"),
    (
        Action.HOLD,
        "Hold the case; its clock stops (shift leader): approves the pending hold request, "
        "or holds directly (reason required)",
    ),
    (Action.HOLD_REFUSE, "Refuse the pending hold request (shift leader; reason required)"),
    (Action.RESUME, "Resume a held case (shift leader)"),
    (Action.REOPEN, "Reopen a closed case the requester says is not solved"),
]
for _action, _summary in _SIMPLE:
    _simple_endpoint(_action, _summary)


def _body_endpoint(path: str, summary: str) -> Callable[[Callable[..., Any]], Any]:
    return router.post(path, summary=summary, response_model=CaseOut, responses=_ERRORS)


@_body_endpoint(
    "/{case_id}/dispatch",
    "Dispatch to a department (dispatcher); attachments (this case's files) are kept in "
    "the history entry",
)
async def dispatch_case(
    case_id: CaseId,
    body: DispatchIn,
    caller: CaseCaller,
    if_match: IfMatch = None,
) -> Response:
    cmd = Command(
        Action.DISPATCH,
        reason=body.reason,
        attachments=tuple(body.attachments),
        department_code=body.department_code,
    )
    return await _transition(caller, case_id, cmd, _expected(body.expected_version, if_match))


@_body_endpoint("/{case_id}/check", "Record the on-site check: solved or not (inspector)")
async def check_case(
    case_id: CaseId,
    body: CheckIn,
    caller: CaseCaller,
    if_match: IfMatch = None,
) -> Response:
    cmd = Command(
        Action.CHECK, reason=body.reason, attachments=tuple(body.attachments), passed=body.passed
    )
    return await _transition(caller, case_id, cmd, _expected(body.expected_version, if_match))


@_body_endpoint("/{case_id}/extend-request", "Ask for more time (department)")
async def request_extension(
    case_id: CaseId,
    body: ExtensionRequestIn,
    caller: CaseCaller,
    if_match: IfMatch = None,
) -> Response:
    cmd = Command(
        Action.EXTEND_REQUEST,
        reason=body.reason,
        attachments=tuple(body.attachments),
        extension=body.limit(),
    )
    return await _transition(caller, case_id, cmd, _expected(body.expected_version, if_match))


@_body_endpoint(
    "/{case_id}/extend-approve",
    "Grant the pending extension (shift leader); attachments (this case's files) are kept in "
    "the history entry",
)
async def approve_extension(
    case_id: CaseId,
    body: ExtensionApproveIn,
    caller: CaseCaller,
    if_match: IfMatch = None,
) -> Response:
    cmd = Command(
        Action.EXTEND_APPROVE,
        reason=body.reason,
        attachments=tuple(body.attachments),
        extension=body.limit(),
    )
    return await _transition(caller, case_id, cmd, _expected(body.expected_version, if_match))


@_body_endpoint("/{case_id}/hold-request", "Ask to park the case (department; reason required)")
async def request_hold(
    case_id: CaseId,
    body: HoldRequestIn,
    caller: CaseCaller,
    if_match: IfMatch = None,
) -> Response:
    # What the department shows for its request (the frozen ground, the works' notice) goes
    # to the history entry, checked to belong to the case, as with any transition.
    cmd = Command(
        Action.HOLD_REQUEST,
        reason=body.reason,
        attachments=tuple(body.attachments),
        resume_on=body.resume_on,
    )
    return await _transition(caller, case_id, cmd, _expected(body.expected_version, if_match))


@_body_endpoint(
    "/{case_id}/merge",
    "Merge this duplicate into another case; attachments (this duplicate's files) are kept "
    "in its history entry",
)
def merge_case(
    case_id: CaseId,
    body: MergeIn,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    rules: Rules,
    if_match: IfMatch = None,
) -> Response:
    principal = caller.principal(session)
    with _one_writer(session):
        rec = services.merge_case_in(
            session,
            principal,
            case_id,
            into_case_id=body.into_case_id,
            clock=clock,
            rules=rules,
            expected_version=_expected(body.expected_version, if_match),
            reason=body.reason,
            attachments=body.attachments,
        )
        session.commit()
    return _json(_out(rec, principal, rules, clock))


@router.post(
    "/{case_id}/split",
    status_code=201,
    summary=(
        "Split into child cases for several departments, with a lead unit; attachments (this "
        "case's files) are kept in its history entry"
    ),
    responses=_ERRORS,
)
def split_case(
    case_id: CaseId,
    body: SplitIn,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    rules: Rules,
    if_match: IfMatch = None,
) -> SplitOut:
    principal = caller.principal(session)
    with _one_writer(session):
        result = services.split_case_in(
            session,
            principal,
            case_id,
            parts=[services.SplitPart(p.department_code, p.description) for p in body.parts],
            lead_department_code=body.lead_department_code,
            clock=clock,
            rules=rules,
            expected_version=_expected(body.expected_version, if_match),
            reason=body.reason,
            attachments=body.attachments,
        )
        session.commit()
    return SplitOut(
        parent=_out(result.parent, principal, rules, clock),
        children=[_out(c, principal, rules, clock) for c in result.children],
    )


@router.post(
    "/{case_id}/rating",
    status_code=201,
    summary="The reporter rates a closed case, once: satisfied, basically or dissatisfied; "
    "not resolved reopens it",
    responses=_ERRORS,
)
def rate_case(
    case_id: CaseId,
    body: RatingIn,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    rules: Rules,
) -> RatingOut:
    """Kept as the hotline keeps a callback answer, so it counts in the same resolution and
    satisfaction rates; "not resolved" reopens the case, as on a callback."""
    principal = caller.principal(session)
    if principal.is_anonymous:
        raise NotAuthenticated("sign in to rate your case")
    with _one_writer(session):
        row = rate_case_in(
            session,
            principal,
            case_id,
            resolved=body.resolved,
            satisfaction=Satisfaction(body.satisfaction),
            clock=clock,
            rules=rules,
            note=body.note,
        )
        session.commit()
    return RatingOut(
        id=row.id,
        case_id=row.case_id,
        satisfaction=body.satisfaction,
        resolved=row.resolved,
        note=row.note,
        at=row.at,
        reopened=row.reopened,
    )
