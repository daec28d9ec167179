"""FixMyStreet's ``servicerequestupdates`` in both directions (OPEN311.md 2.4).

GET lists the case history as updates (a window on the update time, oldest first), so a front
end can follow what the departments do. POST takes a client's update (a citizen's comment, or a
department system's note) and keeps it as a note on the case, once per ``update_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.api.open311.deps import AppClock, AppSettings, Db, Form
from onegrid.api.open311.errors import Open311Error, bad_request, error_response
from onegrid.api.open311.formats import render
from onegrid.api.open311.mapping import FMS_STATUS, open_or_closed
from onegrid.api.open311.params import (
    Jurisdiction,
    area_of,
    check_format,
    check_jurisdiction,
    client_of,
    positive_int,
    text,
    when,
    window,
)
from onegrid.api.open311.posting import read_form, require_key
from onegrid.api.open311.recording import UPDATE, PostedUpdate, record_update
from onegrid.api.open311.reply import reply
from onegrid.api.open311.search import in_area
from onegrid.api.open311.services import RESPONSES
from onegrid.cases.domain.intake import DESCRIPTION_MAX
from onegrid.cases.domain.states import Status
from onegrid.cases.history import HISTORY
from onegrid.cases.records import CASES

router = APIRouter()
ROOT, ITEM = "service_requests_updates", "request_update"  # the spelling FMS's fixtures parse
LIMIT = 1000
UPDATE_ID_MAX = 150
# What a client may say the status is: open/closed and FMS's extended statuses, matched
# case-insensitively with "_" as a space, as FMS does.
STATUSES = frozenset(
    {"open", "closed", *(s.lower().replace("_", " ") for s in FMS_STATUS.values())}
)
STATUSES = STATUSES | {"reopen", "not councils responsibility", "cancelled"}
REQUIRED = ("service_request_id", "update_id", "updated_datetime", "status", "description")
# Fields kept with the note (not the commenter's personal data, which Open311 gives no purpose).
KEPT = ("service_code", "title", "external_status_code", "email_alerts_requested")
H, C = HISTORY.c, CASES.c


def _update_of(row: Any) -> dict[str, Any]:
    description = row.reason or (
        f"{row.action}: {row.from_status or '-'} -> {row.to_status}" if row.action != UPDATE else ""
    )
    return {
        "update_id": str(row.id),
        "service_request_id": row.number,
        "status": open_or_closed(row.to_status),
        "updated_datetime": row.at,
        "description": description,
        "media_url": (row.details or {}).get("media_url") if row.action == UPDATE else None,
        "external_status_code": FMS_STATUS[Status(row.to_status)],
    }


def list_updates(
    session: Session,
    start: datetime,
    end: datetime | None,
    offset: int,
    limit: int,
    area: str | None = None,
) -> list[dict[str, Any]]:
    """``area``: only the updates of requests in the jurisdiction's area (None: all)."""
    stmt = (
        select(H.id, H.at, H.action, H.from_status, H.to_status, H.reason, H.details, C.number)
        .join(CASES, C.id == H.case_id)
        .where(H.at >= start, *([H.at < end] if end is not None else []))
        .where(*([] if area is None else [in_area(area)]))
        .order_by(H.at, H.id)
        .offset(offset)
        .limit(limit)
    )
    return [_update_of(r) for r in session.execute(stmt)]


@router.get(
    "/servicerequestupdates.{fmt}",
    summary="Open311 (FMS extension): updates of service requests in a time window",
    response_class=Response,
    responses=RESPONSES,
)
def get_updates(
    fmt: str, request: Request, db: Db, clock: AppClock, settings: AppSettings
) -> Response:
    params = request.query_params

    def body(scope: Jurisdiction | None) -> list[dict[str, Any]]:
        start, end = window(params, clock.now())
        page = positive_int(params, "page", 1, 1_000_000)
        size = positive_int(params, "page_size", LIMIT, LIMIT)
        with db.reader() as session:
            return list_updates(session, start, end, (page - 1) * size, size, area_of(scope))

    return reply(fmt, params, settings, body, ROOT, ITEM)


def posted_update(values: dict[str, str], media_urls: tuple[str, ...]) -> PostedUpdate:
    """The update a client posts, checked in FMS's order: every missing field at once, then
    the values."""
    got = {k: (values.get(k) or "").strip() for k in REQUIRED}
    missing = [k for k in REQUIRED if not got[k]]
    if missing:
        raise bad_request(*(f"{k} is required" for k in missing))
    when({"updated_datetime": got["updated_datetime"]}, "updated_datetime")
    status = got["status"].lower().replace("_", " ")
    if status not in STATUSES:
        raise bad_request(f"status {got['status']!r} is not open, closed or an FMS status")
    if len(got["update_id"]) > UPDATE_ID_MAX:
        raise bad_request(f"update_id is at most {UPDATE_ID_MAX} characters")
    if len(got["description"]) > DESCRIPTION_MAX:
        raise bad_request(f"description is at most {DESCRIPTION_MAX} characters")
    return PostedUpdate(
        service_request_id=got["service_request_id"],
        update_id=got["update_id"],
        status=status,
        description=got["description"],
        media_url=media_urls[0] if media_urls else None,
        fields={k: v for k in KEPT if (v := text(values, k) or "")},
    )


@router.post(
    "/servicerequestupdates.{fmt}",
    summary="Open311 (FMS extension): post an update of a service request (api_key required)",
    response_class=Response,
    responses={**RESPONSES, 403: {"description": "an Open311 error list (api_key)"}},
)
def post_update(
    fmt: str, request: Request, form: Form, db: Db, clock: AppClock, settings: AppSettings
) -> Response:
    try:
        check_format(fmt)
        fields = read_form(form, dict(request.query_params))
        raw_key = require_key(fields)
        with db.unit_of_work() as session:
            principal = client_of(session, raw_key, clock)
        scope = check_jurisdiction(fields.values, settings)
        update = posted_update(fields.values, fields.media_urls)
        note_id = record_update(db, principal, update, clock=clock, area=area_of(scope))
        return render(fmt, [{"update_id": str(note_id)}], ROOT, ITEM)
    except Open311Error as exc:
        return error_response(fmt, exc)
