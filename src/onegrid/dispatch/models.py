"""The dispatch tables: hotline calls and callbacks, the knowledge base, routes, duplicates,
and the operators' corrections of the classifier's suggestions.

Cases are referenced by id and departments by code, never by foreign key: the case tables
belong to the cases context, which this one reaches only through its public functions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime


class HotlineCallRow(Base):
    """One call or online message recorded by an operator (来电/留言)."""

    __tablename__ = "hotline_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    medium: Mapped[str] = mapped_column(String(16))  # call | message
    operator: Mapped[str] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(100))
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    # A keyed hash of the phone's digits: repeat callers are found without searching phones.
    caller_key: Mapped[str | None] = mapped_column(String(64), index=True)
    nature: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(500))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    category_code: Mapped[str | None] = mapped_column(String(8))
    suggested_category: Mapped[str | None] = mapped_column(String(64))
    suggested_confidence: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # answered | case | duplicate
    answer_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    repeat_of_call_id: Mapped[int | None] = mapped_column(Integer, index=True)
    feedback_class: Mapped[str | None] = mapped_column(String(16))
    feedback_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class KnowledgeAnswerRow(Base):
    """A prepared answer to a common question (知识库), for consultations closed on the spot."""

    __tablename__ = "knowledge_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseRouteRow(Base):
    """Where a case was (or is proposed to be) sent and which rule said so."""

    __tablename__ = "case_routes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    explanation: Mapped[str] = mapped_column(Text)
    suggested_department_code: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    contacted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)


class HotlineCallbackRow(Base):
    """The requester's answer when called back after the unit reported back (回访)."""

    __tablename__ = "hotline_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    department_code: Mapped[str | None] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    operator: Mapped[str] = mapped_column(String(64))
    resolved: Mapped[bool] = mapped_column(Boolean)
    satisfaction: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text)
    reopened: Mapped[bool] = mapped_column(Boolean)


class DuplicateIndexRow(Base):
    """Open cases by H3 cell and category: the duplicate check reads a few cells, never scans.
    The index holds the box's columns (lon, lat) too: the check drops the reports outside the
    box around its radius without reading their rows."""

    __tablename__ = "duplicate_index"
    __table_args__ = (
        Index("ix_duplicate_index_box", "category_code", "cell", "lon", "lat", "reported_at"),
    )

    case_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(8))
    cell: Mapped[int] = mapped_column(BigInteger)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    text: Mapped[str] = mapped_column(String(400))


class DuplicateProposalRow(Base):
    """A new report proposed as a duplicate of an open case, and what a dispatcher decided."""

    __tablename__ = "duplicate_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    existing_case_id: Mapped[int] = mapped_column(Integer, index=True)
    distance_m: Mapped[float] = mapped_column(Float)
    similarity: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # proposed | confirmed | undone
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ClassifierCorrectionRow(Base):
    """The category an operator chose for a text beside what the classifier suggested (confirmed
    or corrected): a labelled example for the next training of the model ``model``."""

    __tablename__ = "classifier_corrections"
    __table_args__ = (
        Index("ix_classifier_corrections_model_id", "model", "id"),
        UniqueConstraint("import_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(64))  # the classifier's name, as on disk
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    decided_by: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[int | None] = mapped_column(Integer, index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    text: Mapped[str] = mapped_column(Text)  # as the classifier was given it
    chosen_category: Mapped[str] = mapped_column(String(64))
    suggested_category: Mapped[str | None] = mapped_column(String(64))
    suggested_confidence: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    # sha256 of the corrections.jsonl line a row was imported from: a second import adds nothing.
    import_key: Mapped[str | None] = mapped_column(String(64))
