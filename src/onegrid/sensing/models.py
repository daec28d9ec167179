"""The sensing tables. Other contexts are referenced by code (component, department, area, case),
never by foreign key.

``sensing_readings`` is the time series: one row per device, quantity and time, the key itself
(a clustered ``WITHOUT ROWID`` table on SQLite), so a redelivered reading is a no-op and the latest
value of a device is one index seek. Older rows move to the Parquet lake (``lake.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime


class DeviceRow(Base):
    __tablename__ = "sensing_devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_10: Mapped[str | None] = mapped_column(String(16))
    city_code: Mapped[str | None] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subdistrict_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_grid_code: Mapped[str | None] = mapped_column(String(32), index=True)
    component_id: Mapped[str | None] = mapped_column(String(16), index=True)
    owner_department: Mapped[str | None] = mapped_column(String(32))
    quantities: Mapped[dict[str, str]] = mapped_column(JSON)
    interval_s: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReadingRow(Base):
    __tablename__ = "sensing_readings"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "quantity", "observed_at"),
        {"sqlite_with_rowid": False},
    )

    device_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    value: Mapped[float] = mapped_column(Float)


class DeadLetterRow(Base):
    """A message or entry the ingester refused, kept with the reason for someone to look at."""

    __tablename__ = "sensing_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(255))
    device_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    field: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(500))
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class IngestCounterRow(Base):
    """Running totals of what the ingesters kept and refused, by source and outcome."""

    __tablename__ = "sensing_ingest_counters"
    __table_args__ = (PrimaryKeyConstraint("source", "outcome"),)

    source: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RuleRow(Base):
    """An alert rule as data: the mapping it was written as (see ``domain.rules``)."""

    __tablename__ = "sensing_rules"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AlertRow(Base):
    """One episode of a rule's condition on one subject: raised once, updated while it holds,
    cleared when it ends. ``open_key`` is set while the alert is active, so there is at most one
    open alert per rule and subject."""

    __tablename__ = "sensing_alerts"
    __table_args__ = (Index("ix_sensing_alerts_subject", "subject", "rule_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(64), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    last_fired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    fire_count: Mapped[int] = mapped_column(Integer)
    episodes: Mapped[int] = mapped_column(Integer)
    first_value: Mapped[float | None] = mapped_column(Float)
    last_value: Mapped[float | None] = mapped_column(Float)
    peak_value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    area_code: Mapped[str | None] = mapped_column(String(32))
    component_id: Mapped[str | None] = mapped_column(String(16))
    category_code: Mapped[str | None] = mapped_column(String(8))
    urgency: Mapped[str | None] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(32))
    case_state: Mapped[str] = mapped_column(String(16), index=True)
    case_id: Mapped[int | None] = mapped_column(Integer)
    case_number: Mapped[str | None] = mapped_column(String(32))
    case_note: Mapped[str | None] = mapped_column(String(500))
    clear_noted: Mapped[bool] = mapped_column(Boolean)


class BikeOperatorRow(Base):
    """A shared-bike operator: its department (cases go there), fleet quota and feed."""

    __tablename__ = "sensing_bike_operators"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(String(32))
    fleet_quota: Mapped[int | None] = mapped_column(Integer)
    feed_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BikeAreaRow(Base):
    """A parking area with a capacity: a polygon (e.g. a buffer around a metro exit) or an H3
    cell. Bikes outside every configured area count in their res-10 cell at the default
    capacity."""

    __tablename__ = "sensing_bike_areas"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[bytes] = mapped_column(LargeBinary)  # WKB, WGS84
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BikeWatchRow(Base):
    """An area over capacity (since when) and the operators alerted for it."""

    __tablename__ = "sensing_bike_watch"

    area_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    over_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    alerted: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BikeCountRow(Base):
    """Bikes per area and operator at each feed reading (areas with bikes only)."""

    __tablename__ = "sensing_bike_counts"
    __table_args__ = (PrimaryKeyConstraint("area_code", "operator_code", "taken_at"),)

    area_code: Mapped[str] = mapped_column(String(64))
    operator_code: Mapped[str] = mapped_column(String(32))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime())
    bikes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
