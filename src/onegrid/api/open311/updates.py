"""FixMyStreet's ``servicerequestupdates`` in both directions (OPEN311.md 2.4).

GET lists the case history as updates (a window on the update time, oldest first), so a front
end can follow what the departments do. POST takes a client's update once per ``update_id``: a
citizens' client's (FixMyStreet) is kept as a note on the case; a department system's (a key
scoped to a department) moves the case dispatched to that department through the workflow, as
its handlers would (``mapping.department_steps``), or is a note where its status moves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.api.open311.deps import AppClock, AppSettings, Db, Form
from onegrid.api.open311.errors import Open311Error, bad_request, error_response, from_domain
from onegrid.api.open311.formats import render
from onegrid.api.open311.mapping import FMS_STATUS, open_or_closed
from onegrid.api.open311.media import check_uploads
from onegrid.api.open311.params import (
    Jurisdiction,
    area_of,
    check_format,
    check_jurisdiction,
    client_of,
    positive_int,
    query_parameters,
    text,
    when,
    window,
)
from onegrid.api.open311.posting import check_media_urls, read_form, require_key
from onegrid.api.open311.recording import (
    DEPARTMENT_UPDATE,
    OPEN311_UPDATE,
    UPDATE,
    PostedUpdate,
    record_update,
)
from onegrid.api.open311.reply import reply
from onegrid.api.open311.search import in_area
from onegrid.api.open311.services import RESPONSES
from onegrid.cases.attachments import AttachmentStore
from onegrid.cases.config import case_rules, cases_settings
from onegrid.cases.domain.intake import DESCRIPTION_MAX
from onegrid.cases.domain.states import Status
from onegrid.cases.history import HISTORY
from onegrid.cases.records import CASES
from onegrid.core.errors import DomainError
from onegrid.people.policy import reach

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
# A department system's plain words for a return (回退), beside FMS's own.
STATUSES = STATUSES | {"not responsible", "wrong department"}
REQUIRED = ("service_request_id", "update_id", "updated_datetime", "status", "description")
# Fields kept with the note (not the commenter's personal data, which Open311 gives no purpose).
KEPT = ("service_code", "title", "external_status_code", "email_alerts_requested")
H, C = HISTORY.c, CASES.c


def _update_of(row: Any) -> dict[str, Any]:
    description = row.reason or (
        f"{row.action}: {row.from_status or '-'} -> {row.to_status}" if row.action != UPDATE else ""
    )
    details = row.details or {}
    # A note holds its update's fields; a step a department system's update made, under a key.
    posted = details if row.action == UPDATE else details.get(OPEN311_UPDATE) or {}
    return {
        "update_id": str(row.id),
        "service_request_id": row.number,
        "status": open_or_closed(row.to_status),
        "updated_datetime": row.at,
        "description": description,
        "media_url": posted.get("media_url"),
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
    params = query_parameters(request)

    def body(scope: Jurisdiction | None) -> list[dict[str, Any]]:
        start, end = window(params, clock.now())
        page = positive_int(params, "page", 1, 1_000_000)
        size = positive_int(params, "page_size", LIMIT, LIMIT)
        with db.reader() as session:
            return list_updates(session, start, end, (page - 1) * size, size, area_of(scope))

    return reply(fmt, params, settings, body, ROOT, ITEM)


def posted_update(values: Mapping[str, str], media_urls: tuple[str, ...]) -> PostedUpdate:
    """The update a client posts, checked in FMS's order: every missing field at once, then
    the values."""
    got = {k: (values.get(k) or "").strip() for k in REQUIRED}
    missing = [k for k in REQUIRED if not got[k]]
    if missing:
        raise bad_request(*(f"{k} is required" for k in missing))
    happened = when({"updated_datetime": got["updated_datetime"]}, "updated_datetime")
    status = got["status"].lower().replace("_", " ")
    if status not in STATUSES:
        raise bad_request(f"status {got['status']!r} is not open, closed or an FMS status")
    if len(got["update_id"]) > UPDATE_ID_MAX:
        raise bad_request(f"update_id is at most {UPDATE_ID_MAX} characters")
    if len(got["description"]) > DESCRIPTION_MAX:
        raise bad_request(f"description is at most {DESCRIPTION_MAX} characters")
    # Only the first is kept, but a client sending a bad one learns it, as POST requests does.
    check_media_urls(media_urls)
    return PostedUpdate(
        service_request_id=got["service_request_id"],
        update_id=got["update_id"],
        status=status,
        description=got["description"],
        media_url=media_urls[0] if media_urls else None,
        fields={k: v for k in KEPT if (v := text(values, k) or "")},
        updated_datetime=happened,
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
        fields = read_form(form, request.query_params.multi_items())
        raw_key = require_key(fields)
        with db.unit_of_work() as session:
            principal = client_of(session, raw_key, clock)
        scope = check_jurisdiction(fields.values, settings)
        update = posted_update(fields.values, fields.media_urls)
        department_system = bool(reach(principal, DEPARTMENT_UPDATE).department_codes)
        if department_system:
            # Photos are a department's evidence for its report back; a citizens' client's
            # files are not taken with an update (as before).
            max_bytes = cases_settings().attachment_max_bytes
            update = replace(update, uploads=check_uploads(fields.uploads, max_bytes))
        entry_id = record_update(
            db,
            principal,
            update,
            clock=clock,
            rules=case_rules(settings.timezone),
            store=AttachmentStore(settings.data_dir / "attachments"),
            department_system=department_system,
            area=area_of(scope),
        )
        return render(fmt, [{"update_id": str(entry_id)}], ROOT, ITEM)
    except DomainError as exc:
        return error_response(fmt, from_domain(exc))
    except Open311Error as exc:
        return error_response(fmt, exc)
