"""The case history: one row per transition, appended in the transaction of the change.

This module only ever inserts. There is no function that updates or deletes a history row, and
the database refuses an UPDATE or DELETE of ``case_history`` (triggers, see the migrations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from onegrid.cases.models import CaseHistoryRow

HISTORY: Table = CaseHistoryRow.__table__  # type: ignore[assignment]
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    """Who did it, for the record: a stable reference, a display name, and the role used."""

    ref: str
    name: str
    role: str | None


SCHEDULER = Actor("system:scheduler", "scheduler", None)
IMPORTER = Actor("system:import", "import", None)
# The requester's "not resolved" on a callback or a rating sends the case back by itself: the
# system acts for the requester, and the entry's details name who recorded the answer.
REQUESTER = Actor("system:requester", "requester (callback or rating)", None)


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    case_id: int
    at: datetime
    actor: str
    actor_name: str
    role: str | None
    action: str
    from_status: str | None
    to_status: str
    version: int
    reason: str
    attachment_ids: list[int]
    details: dict[str, Any]


def entry_values(
    case_id: int,
    at: datetime,
    actor: Actor,
    action: str,
    from_status: str | None,
    to_status: str,
    version: int,
    reason: str = "",
    attachment_ids: Sequence[int] = (),
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "at": at,
        "actor": actor.ref,
        "actor_name": actor.name[:100],
        "role": actor.role,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "version": version,
        "reason": reason,
        "attachment_ids": list(attachment_ids),
        "details": details or {},
    }


_INSERT = insert(HISTORY)


def append(session: Session, **values: Any) -> None:
    """Append one entry (the values of ``entry_values``)."""
    session.connection().execute(_INSERT, values)


def append_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(_INSERT, list(rows))


def history_of(session: Session, case_id: int) -> list[HistoryEntry]:
    rows = session.execute(
        select(HISTORY).where(HISTORY.c.case_id == case_id).order_by(HISTORY.c.id)
    ).mappings()
    return [HistoryEntry(**dict(r)) for r in rows]
