"""The writes Open311 makes beyond ``create_case``: what came with a request (answers, media),
its duplicate screening, and the updates clients post (``servicerequestupdates``).

The cases context has no comment use case an Open311 key may call, so these small functions
write in the case service's own way: one transaction, history rows only ever appended, the
case row untouched (its status is the department's to change). An ``update_id`` is claimed in
the case retry-key table, whose primary key makes a replay fail atomically on both backends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegrid.api.open311.errors import bad_request, not_found
from onegrid.cases.attachments import ATTACHMENTS, AttachmentStore
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.history import HISTORY, Actor, append, entry_values
from onegrid.cases.queries import get_case_by_number
from onegrid.cases.records import CaseRecord
from onegrid.cases.services import create_case_in
from onegrid.cases.services.common import one_writer
from onegrid.cases.services.creating import KEYS
from onegrid.core.clock import Clock
from onegrid.core.errors import NotFound
from onegrid.db.session import Database
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.duplicates.services import existing_numbers, screen_case_in, screened_in
from onegrid.people.domain import Principal

SUBMIT = "open311"  # the history action holding what came with a request
UPDATE = "open311_update"  # a posted update (a citizen's comment, a department system's note)
ROLE = "open311_client"
UPDATE_KEY = "open311-update:"


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
    media_url: str | None
    fields: Mapping[str, str]  # the other form fields kept with the note (never shown)


def _claim(session: Session, actor: str, update_id: str, body: str, case_id: int, at: Any) -> bool:
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(KEYS)
    stmt = ins.values(
        actor=actor, key=UPDATE_KEY + update_id, body_sha256=body, case_id=case_id, created_at=at
    ).on_conflict_do_nothing()
    # RETURNING, not rowcount: on PostgreSQL the rowcount of a skipped insert read as 1 here.
    return session.execute(stmt.returning(KEYS.c.key)).first() is not None


def record_update(
    db: Database, principal: Principal, up: PostedUpdate, *, clock: Clock, area: str | None = None
) -> int:
    """Append a posted update as a note on its case; the id of the history row.

    A replayed ``update_id`` (from the same client) is refused with 400 and writes nothing,
    as FixMyStreet's receiving end does (OPEN311.md 2.4). With ``area`` (a jurisdiction's on a
    shared server), a request outside it is not found."""
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
        if not _claim(session, principal.actor, up.update_id, body, rec.id, now):
            raise bad_request(f"update_id {up.update_id!r} was already received (not kept twice)")
        details = {
            "update_id": up.update_id,
            "status": up.status,
            "media_url": up.media_url,
            **{k: v for k, v in up.fields.items() if v},
        }
        entry = entry_values(
            rec.id, now, _actor(principal), UPDATE, rec.status, rec.status, rec.version,
            reason=up.description, details=details,
        )  # fmt: skip
        stmt = insert(HISTORY).values(entry).returning(HISTORY.c.id)
        return int(session.execute(stmt).scalar_one())
