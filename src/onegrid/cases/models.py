"""The case tables. Other contexts are referenced by code (category, area, department), never by
foreign key; ``case_history`` is append-only (no code path updates or deletes it, and triggers
refuse both)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime

# Partial indexes on the columns that say a request waits for a shift leader.
PENDING_INDEXES = {
    "ix_cases_hold_pending": "hold_requested_at",
    "ix_cases_extension_pending": "extension_pending",
}


def _pending_index(name: str, column: str) -> Index:
    waiting = text(f"{column} IS NOT NULL")
    return Index(name, column, sqlite_where=waiting, postgresql_where=waiting)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    category_code: Mapped[str] = mapped_column(String(8), index=True)
    component_id: Mapped[str | None] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    nature: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(500))
    # The standard address register's id (标准地址库) of the address, when the report named one
    # the register held: the id, not the register's row, since a register row is versioned.
    address_id: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[str]] = mapped_column(JSON)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_10: Mapped[str | None] = mapped_column(String(16), index=True)
    city_code: Mapped[str | None] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subdistrict_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_grid_code: Mapped[str | None] = mapped_column(String(32))
    region_class: Mapped[str] = mapped_column(String(32))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_by: Mapped[str] = mapped_column(String(64), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    source_type: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    department_code: Mapped[str | None] = mapped_column(String(32))
    suggested_department_code: Mapped[str | None] = mapped_column(String(32))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    split_parent_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    limits_version: Mapped[str] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(16))
    step_round: Mapped[int] = mapped_column(Integer)
    step_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    step_natural: Mapped[bool | None] = mapped_column(Boolean)
    step_allowed_us: Mapped[int | None] = mapped_column(BigInteger)
    step_held_us: Mapped[int | None] = mapped_column(BigInteger)
    step_hold_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    step_deadline: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    step_warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    step_frozen_light: Mapped[str | None] = mapped_column(String(8))
    overdue_steps: Mapped[int] = mapped_column(Integer)
    overdue_marked: Mapped[bool] = mapped_column(Boolean)
    escalation_tier: Mapped[int] = mapped_column(Integer)
    escalated_to: Mapped[str | None] = mapped_column(String(32))
    extensions_granted: Mapped[int] = mapped_column(Integer)
    extension_pending: Mapped[str | None] = mapped_column(String(40))
    # A department's hold request (挂账申请) waiting for a shift leader: when it was made, and
    # the day it expects work to resume, if it said. Approved, the day stays while the case is
    # ON_HOLD (a request waits only in HANDLING, so the one column never means both).
    hold_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hold_resume_on: Mapped[date | None] = mapped_column(Date)
    check_passed: Mapped[bool | None] = mapped_column(Boolean)
    returns: Mapped[int] = mapped_column(Integer)
    reworks: Mapped[int] = mapped_column(Integer)
    reopens: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_updated_at_id", "updated_at", "id"),
        Index("ix_cases_status_created_at", "status", "created_at", "id"),
        # The returned queue (回退, `returned=true`): a few cases in a hundred, found without
        # reading every case to dispatch (cases_0008).
        Index(
            "ix_cases_returned",
            "status",
            "created_at",
            "id",
            sqlite_where=text("returns > 0"),
            postgresql_where=text("returns > 0"),
        ),
        Index("ix_cases_department_status", "department_code", "status", "created_at"),
        # Covers the map's count of open cases per cell and light (ADR 0008, web.tallies).
        Index(
            "ix_cases_open_cells",
            "status",
            "h3_10",
            "district_code",
            "step_frozen_light",
            "step_deadline",
            "step_warn_at",
        ),
        # Covers an inspector's grids: open cases per grid, status and light (cases_0003).
        Index(
            "ix_cases_open_grids",
            "unit_grid_code",
            "status",
            "step_deadline",
            "step_frozen_light",
            "step_warn_at",
            "id",
        ),
        # The shift leader's queues (?hold_pending=true, ?extension_pending=true): a few cases
        # among all of them, so only the waiting ones are indexed (cases_0006).
        *(_pending_index(name, column) for name, column in PENDING_INDEXES.items()),
    )


class CaseHistoryRow(Base):
    """One transition: who, in which role, when, from which status to which, why, with what."""

    __tablename__ = "case_history"
    # Open311 updated_after and service request updates read history by time.
    __table_args__ = (Index("ix_case_history_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list[int]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class CaseAttachmentRow(Base):
    """A file attached to a case; the bytes live on disk under their SHA-256."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(64))


class CaseNumberCounterRow(Base):
    """The last daily sequence used per category and day, bumped in the creating transaction."""

    __tablename__ = "case_number_counters"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CaseIdempotencyKeyRow(Base):
    """A create request's ``Idempotency-Key``: a retry with the same body gets the same case."""

    __tablename__ = "case_idempotency_keys"

    actor: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # Empty while the creating transaction runs: claiming the key first makes a concurrent
    # retry wait for (PostgreSQL) or queue behind (SQLite) the first, then find its case.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseRuleRevisionRow(Base):
    """One saved revision of a city's rule document (time limits or working calendar): who,
    when, why. Append-only like ``case_history``; the newest revision of a kind is in force."""

    __tablename__ = "case_rule_revisions"
    __table_args__ = (UniqueConstraint("kind", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_by_name: Mapped[str] = mapped_column(String(100))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text)
