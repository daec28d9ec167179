"""The writes Open311 makes beyond ``create_case``: what came with a request (answers, media),
its duplicate screening, and the updates clients post (``servicerequestupdates``).

The cases context has no comment use case an Open311 key may call, so a note is written in the
case service's own way: one transaction, history rows only ever appended, the case row
untouched. A department system's update that moves the case goes through the case service's
workflow commands (``act_in``: the table, the version guard), authorized by
``open311.department_update`` on the case (``people.policy``), in the same transaction as its
``update_id``. An ``update_id`` is claimed in the case retry-key table,
whose primary key makes a replay fail atomically on both backends.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.api.open311.errors import bad_request, not_found
from onegrid.api.open311.mapping import department_steps
from onegrid.cases.attachments import ATTACHMENTS, AttachmentStore
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Status
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import HISTORY, Actor, append, entry_values
from onegrid.cases.queries import get_case_by_number
from onegrid.cases.records import CaseRecord
from onegrid.cases.services import act_in, create_case_in
from onegrid.cases.services.creating import KEYS
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.duplicates.services import existing_numbers, screen_case_in, screened_in
from onegrid.people.domain import Principal
from onegrid.people.policy import require

SUBMIT = "open311"  # the history action holding what came with a request
UPDATE = "open311_update"  # a posted update (a citizen's comment, a department system's note)
ROLE = "open311_client"
UPDATE_KEY = "open311-update:"
DEPARTMENT_UPDATE = "open311.department_update"
OPEN311_UPDATE = "open311_update"  # a workflow entry's details: the update that made the step
# This server's own address of a request's photo (``GET media/{name}``, see media_route).
_OWN_MEDIA = re.compile(r"/media/(\d{1,18})-([0-9a-f]{16})\.[a-z]{3,4}$")


@dataclass(frozen=True)
class Upload:
    """A checked media file: its bytes are what ``media_type`` says."""

    filename: str
    data: bytes
    media_type: str


@dataclass(frozen=True)
class Submission:
    new: NewCase
    answers: Mapping[str, str]
    media_urls: Sequence[str]
    uploads: Sequence[Upload]


def _actor(principal: Principal) -> Actor:
    return Actor(principal.actor, principal.name, ROLE)


def _attach(session: Session, case_id: int, uploads: Sequence[Upload], **common: Any) -> list[int]:
    ids: list[int] = []
    for up in uploads:
        values = {
            "case_id": case_id,
            "sha256": hashlib.sha256(up.data).hexdigest(),
            "media_type": up.media_type,
            "size": len(up.data),
            "filename": up.filename,
            **common,
        }
        stmt = insert(ATTACHMENTS).values(values).returning(ATTACHMENTS.c.id)
        ids.append(int(session.execute(stmt).scalar_one()))
    return ids


@dataclass(frozen=True)
class Recorded:
    case: CaseRecord
    # The open requests this one may repeat, best first (a dispatcher confirms or undoes).
    duplicate_of: Sequence[str]


def create_request_in(
    session: Session,
    principal: Principal,
    sub: Submission,
    *,
    clock: Clock,
    rules: CaseRules,
    store: AttachmentStore,
    idempotency_key: str | None,
    duplicates: DuplicateRules,
) -> Recorded:
    """Create the case, keep its answers and media with it, and screen it for duplicates
    (as every intake does), in the caller's transaction."""
    # Files are written first (content-addressed, so a rollback leaves only an orphan that
    # the next upload of the same bytes reuses).
    for up in sub.uploads:
        store.put(up.data)
    created = create_case_in(
        session, principal, sub.new, clock=clock, rules=rules, idempotency_key=idempotency_key
    )
    rec = created.case
    if not created.created:
        # A retry: the same answer as the first time, duplicates included.
        return Recorded(rec, existing_numbers(session, screened_in(session, rec.id)))
    proposals = screen_case_in(session, rec, duplicates, clock.now())
    recorded = Recorded(rec, existing_numbers(session, proposals))
    if not (sub.answers or sub.media_urls or sub.uploads):
        return recorded
    now = clock.now()
    ids = _attach(session, rec.id, sub.uploads, uploaded_at=now, uploaded_by=principal.actor)
    details = {"attributes": dict(sub.answers), "media_urls": list(sub.media_urls)}
    entry = entry_values(
        rec.id, now, _actor(principal), SUBMIT, rec.status, rec.status, rec.version,
        attachment_ids=ids, details=details,
    )  # fmt: skip
    append(session, **entry)
    return recorded


@dataclass(frozen=True)
class PostedUpdate:
    service_request_id: str
    update_id: str
    status: str | None
    description: str
    media_url: str | None  # checked as an http(s) URL (``posting.check_media_urls``)
    fields: Mapping[str, str]  # the other form fields kept with the note (never shown)
    uploads: Sequence[Upload] = ()  # a department system's photos (multipart media/photoN)
    # When the client says it happened (its ``updated_datetime``, a W3C datetime with a zone):
    # kept for the audit trail; the history's own time is this server's clock.
    updated_datetime: datetime | None = None


def _claim(session: Session, actor: str, update_id: str, body: str, case_id: int, at: Any) -> bool:
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(KEYS)
    stmt = ins.values(
        actor=actor, key=UPDATE_KEY + update_id, body_sha256=body, case_id=case_id, created_at=at
    ).on_conflict_do_nothing()
    # RETURNING, not rowcount: on PostgreSQL the rowcount of a skipped insert read as 1 here.
    return session.execute(stmt.returning(KEYS.c.key)).first() is not None


def _own_photo(session: Session, rec: CaseRecord, url: str | None, by: str) -> int | None:
    """The attachment a ``media_url`` names when it is this server's address of a photo of
    this very request that the same key sent (with an earlier update): never the reporter's
    photo of the problem as the result. The hash part must match, so ids cannot be guessed."""
    try:
        path = urlsplit(url).path if url else ""
    except ValueError:  # checked before (an http(s) URL); an unreadable one names nothing here
        return None
    match = _OWN_MEDIA.search(path)
    if match is None:
        return None
    a = ATTACHMENTS.c
    row = session.execute(
        select(a.sha256, a.media_type).where(
            a.id == int(match.group(1)), a.case_id == rec.id, a.uploaded_by == by
        )
    ).first()
    if row is None or not row.sha256.startswith(match.group(2)):
        return None
    return int(match.group(1)) if row.media_type.startswith("image/") else None


def _last_entry(session: Session, case_id: int) -> int:
    stmt = select(func.max(HISTORY.c.id)).where(HISTORY.c.case_id == case_id)
    return int(session.execute(stmt).scalar_one())


def _move(
    session: Session,
    principal: Principal,
    rec: CaseRecord,
    up: PostedUpdate,
    steps: Sequence[Action],
    photos: Sequence[int],
    noted: dict[str, Any],
    *,
    clock: Clock,
    rules: CaseRules,
) -> None:
    """The steps as the case service's commands, acting as the key (its history's actor) under
    ``open311.department_update`` (not the steps' own ``case.*`` permissions, which the key does
    not hold), each step checked on the case as it then is. The update's description is the
    last step's reason, its photos the last step's attachments."""
    for i, action in enumerate(steps):
        last = i == len(steps) - 1
        cmd = Command(
            action, reason=up.description if last else "", attachments=tuple(photos) if last else ()
        )
        try:
            rec = act_in(
                session, principal, rec.id, cmd,
                clock=clock, rules=rules, noted=noted, permission=DEPARTMENT_UPDATE,
            )  # fmt: skip
        except InvalidInput as exc:
            if any(p.rule == "attachments_required" for p in exc.problems):
                raise bad_request(
                    f"status {up.status!r} reports the result back ({action.value}), which needs "
                    "at least one photo of the result (rule attachments_required): send it as "
                    "media or photo1 (multipart), or as the media_url of a photo of this request "
                    "on this server; a media_url elsewhere is kept as a link, never fetched"
                ) from None
            raise


def record_update(
    db: Database,
    principal: Principal,
    up: PostedUpdate,
    *,
    clock: Clock,
    rules: CaseRules,
    store: AttachmentStore,
    department_system: bool = False,
    area: str | None = None,
) -> int:
    """Record a posted update; the id of the (last) history row it wrote.

    A citizens' client's update is a note on the case. A ``department_system``'s (a key scoped
    to a department) may post only on a case dispatched to that department (else 403), and its
    status moves the case (``mapping.department_steps``) or, where it does not, is a note.
    A replayed ``update_id`` (from the same client) is refused with 400 and writes nothing,
    as FixMyStreet's receiving end does (OPEN311.md 2.4); so is any refused update (one
    transaction). With ``area`` (a jurisdiction's on a shared server), a request outside it is
    not found."""
    with one_writer(db.dialect), db.unit_of_work() as session:
        try:
            rec = get_case_by_number(session, up.service_request_id)
        except NotFound:
            rec = None
        if rec is None or (area is not None and area not in rec.area_chain):
            raise not_found(f"no service request {up.service_request_id!r}")
        now = clock.now()
        body = hashlib.sha256(
            json.dumps([up.description, up.status, up.media_url], ensure_ascii=False).encode()
        ).hexdigest()
        # A replay is answered as one before anything else: the first time may have moved the
        # case out of the department's hands (a return), and the client must learn it landed.
        if not _claim(session, principal.actor, up.update_id, body, rec.id, now):
            raise bad_request(f"update_id {up.update_id!r} was already received (not kept twice)")
        details = {
            "update_id": up.update_id,
            "status": up.status,
            "media_url": up.media_url,
            **{k: v for k, v in up.fields.items() if v},
        }
        if up.updated_datetime is not None:
            details["updated_datetime"] = up.updated_datetime.isoformat()
        photos: list[int] = []
        if department_system:
            require(
                principal,
                DEPARTMENT_UPDATE,
                area_chain=rec.area_chain,
                department_code=rec.department_code,
            )
            for upload in up.uploads:
                store.put(upload.data)
            photos = _attach(
                session, rec.id, up.uploads, uploaded_at=now, uploaded_by=principal.actor
            )
            own = _own_photo(session, rec, up.media_url, principal.actor)
            if own is not None and own not in photos:
                photos.append(own)
            steps = department_steps(up.status or "", Status(rec.status))
            if steps:
                noted = {OPEN311_UPDATE: details}
                _move(session, principal, rec, up, steps, photos, noted, clock=clock, rules=rules)
                return _last_entry(session, rec.id)
        entry = entry_values(
            rec.id, now, _actor(principal), UPDATE, rec.status, rec.status, rec.version,
            reason=up.description, attachment_ids=photos, details=details,
        )  # fmt: skip
        stmt = insert(HISTORY).values(entry).returning(HISTORY.c.id)
        return int(session.execute(stmt).scalar_one())
