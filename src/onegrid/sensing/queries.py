"""The sensing read side: devices, the registry the ingester caches, latest values, alerts, dead
letters and ingest counters. Time series with downsampling are in ``series.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from onegrid.core.errors import NotFound
from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.rules import Rule, parse_rules
from onegrid.sensing.models import (
    AlertRow,
    DeadLetterRow,
    DeviceRow,
    IngestCounterRow,
    ReadingRow,
    RuleRow,
)

__all__ = [
    "AlertView",
    "DeadLetterView",
    "DeviceView",
    "IngestStats",
    "area_clause",
    "device_registry",
    "find_device",
    "get_alert",
    "get_device",
    "ingest_stats",
    "latest_values",
    "list_alerts",
    "list_dead_letters",
    "list_devices",
    "load_rules",
    "registry_token",
    "rule_specs",
]


@dataclass(frozen=True)
class DeviceView:
    id: str
    kind: str
    name: str
    lon: float
    lat: float
    h3_10: str | None
    city_code: str | None
    district_code: str | None
    subdistrict_code: str | None
    community_code: str | None
    unit_grid_code: str | None
    component_id: str | None
    owner_department: str | None
    quantities: dict[str, str]
    interval_s: int
    active: bool
    note: str
    created_at: datetime
    updated_at: datetime

    @property
    def areas(self) -> dict[str, str]:
        pairs = (
            ("city", self.city_code),
            ("district", self.district_code),
            ("subdistrict", self.subdistrict_code),
            ("community", self.community_code),
            ("unit_grid", self.unit_grid_code),
        )
        return {level: code for level, code in pairs if code}

    @property
    def area_chain(self) -> tuple[str, ...]:
        return tuple(self.areas.values())

    def as_device(self) -> Device:
        return Device.build(
            id=self.id,
            kind=self.kind,
            quantities=dict(self.quantities),
            interval_s=float(self.interval_s),
            lon=self.lon,
            lat=self.lat,
            areas=self.areas,
            component_id=self.component_id,
            owner=self.owner_department,
            active=self.active,
        )


def _device_view(row: DeviceRow) -> DeviceView:
    return DeviceView(
        row.id,
        row.kind,
        row.name,
        row.lon,
        row.lat,
        row.h3_10,
        row.city_code,
        row.district_code,
        row.subdistrict_code,
        row.community_code,
        row.unit_grid_code,
        row.component_id,
        row.owner_department,
        dict(row.quantities),
        row.interval_s,
        row.active,
        row.note,
        row.created_at,
        row.updated_at,
    )


def area_clause(code: str) -> ColumnElement[bool]:
    """Devices in an area of any tier."""
    d = DeviceRow
    return or_(
        d.city_code == code,
        d.district_code == code,
        d.subdistrict_code == code,
        d.community_code == code,
        d.unit_grid_code == code,
    )


def _device_query(kind: str | None, area: str | None, active_only: bool) -> Select[Any]:
    query = select(DeviceRow)
    if kind:
        query = query.where(DeviceRow.kind == kind)
    if area:
        query = query.where(area_clause(area))
    if active_only:
        query = query.where(DeviceRow.active.is_(True))
    return query


def list_devices(
    session: Session,
    *,
    kind: str | None = None,
    area: str | None = None,
    active_only: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[DeviceView]:
    query = _device_query(kind, area, active_only).order_by(DeviceRow.id)
    return [_device_view(r) for r in session.scalars(query.limit(limit).offset(offset))]


def count_devices(session: Session, *, kind: str | None = None, area: str | None = None) -> int:
    query = _device_query(kind, area, False).with_only_columns(func.count())
    return int(session.execute(query).scalar_one())


def find_device(session: Session, device_id: str) -> DeviceView | None:
    row = session.get(DeviceRow, device_id)
    return _device_view(row) if row else None


def get_device(session: Session, device_id: str) -> DeviceView:
    found = find_device(session, device_id)
    if found is None:
        raise NotFound(f"no device {device_id!r}")
    return found


def registry_token(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever a device is added or changed: the ingester reloads its cache then."""
    count, newest = session.execute(select(func.count(), func.max(DeviceRow.updated_at))).one()
    return int(count), newest


def device_registry(session: Session) -> dict[str, Device]:
    """Every device (retired ones too: their readings are refused with that reason)."""
    return {r.id: _device_view(r).as_device() for r in session.scalars(select(DeviceRow))}


# --- latest values ----------------------------------------------------------------------------

_R = ReadingRow.__table__
_LATEST = (
    select(_R.c.observed_at, _R.c.value)
    .where(_R.c.device_id == bindparam("d"), _R.c.quantity == bindparam("q"))
    .order_by(_R.c.observed_at.desc())
    .limit(1)
)


def latest_values(
    session: Session, devices: Sequence[DeviceView], quantities: Sequence[str] | None = None
) -> dict[str, dict[str, tuple[datetime, float]]]:
    """The newest stored reading of each quantity of each device: one index seek apiece."""
    out: dict[str, dict[str, tuple[datetime, float]]] = {}
    for device in devices:
        values: dict[str, tuple[datetime, float]] = {}
        for quantity in device.quantities:
            if quantities is not None and quantity not in quantities:
                continue
            row = session.execute(_LATEST, {"d": device.id, "q": quantity}).first()
            if row is not None:
                values[quantity] = (row.observed_at, row.value)
        out[device.id] = values
    return out


# --- rules ----------------------------------------------------------------------------------


def rule_specs(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(RuleRow).order_by(RuleRow.code))
    return [{**r.spec, "enabled": r.enabled, "version": r.version} for r in rows]


def load_rules(session: Session) -> list[Rule]:
    """The rules as stored (a table the sensing services alone write, so they parse)."""
    rows = list(session.scalars(select(RuleRow).order_by(RuleRow.code)))
    return parse_rules([{**r.spec, "enabled": r.enabled} for r in rows]) if rows else []


def rules_token(session: Session) -> tuple[int, int]:
    count, versions = session.execute(
        select(func.count(), func.coalesce(func.sum(RuleRow.version), 0))
    ).one()
    return int(count), int(versions)


# --- alerts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    id: int
    rule_code: str
    subject_kind: str
    subject: str
    status: str
    description: str
    started_at: datetime
    raised_at: datetime
    last_fired_at: datetime
    cleared_at: datetime | None
    fire_count: int
    episodes: int
    first_value: float | None
    last_value: float | None
    peak_value: float | None
    unit: str | None
    lon: float | None
    lat: float | None
    area_code: str | None
    component_id: str | None
    category_code: str | None
    urgency: str | None
    department_code: str | None
    case_state: str
    case_id: int | None
    case_number: str | None
    case_note: str | None
    clear_noted: bool


_ALERT_FIELDS = tuple(AlertView.__dataclass_fields__)


def _alert_view(row: AlertRow) -> AlertView:
    return AlertView(**{f: getattr(row, f) for f in _ALERT_FIELDS})


def list_alerts(
    session: Session,
    *,
    status: str | None = None,
    rule_code: str | None = None,
    subject: str | None = None,
    area: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AlertView]:
    query = select(AlertRow)
    if status:
        query = query.where(AlertRow.status == status)
    if rule_code:
        query = query.where(AlertRow.rule_code == rule_code)
    if subject:
        query = query.where(AlertRow.subject == subject)
    if area:
        in_area = select(DeviceRow.id).where(area_clause(area))
        query = query.where(or_(AlertRow.subject.in_(in_area), AlertRow.area_code == area))
    query = query.order_by(AlertRow.raised_at.desc(), AlertRow.id.desc())
    return [_alert_view(r) for r in session.scalars(query.limit(limit).offset(offset))]


def get_alert(session: Session, alert_id: int) -> AlertView:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return _alert_view(row)


# --- dead letters and counters ----------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    received_at: datetime
    source: str
    topic: str | None
    device_id: str | None
    reason: str
    field: str
    detail: str
    payload: bytes


def list_dead_letters(
    session: Session, *, reason: str | None = None, limit: int = 100, offset: int = 0
) -> list[DeadLetterView]:
    query = select(DeadLetterRow)
    if reason:
        query = query.where(DeadLetterRow.reason == reason)
    query = query.order_by(DeadLetterRow.id.desc()).limit(limit).offset(offset)
    return [
        DeadLetterView(
            r.id,
            r.received_at,
            r.source,
            r.topic,
            r.device_id,
            r.reason,
            r.field,
            r.detail,
            r.payload,
        )
        for r in session.scalars(query)
    ]


@dataclass(frozen=True)
class IngestStats:
    accepted: dict[str, int]  # by source
    rejected: dict[str, dict[str, int]]  # by source, then reason
    dead_letters: dict[str, int]  # stored, by reason
    updated_at: datetime | None


ACCEPTED = "accepted"


def ingest_stats(session: Session) -> IngestStats:
    accepted: dict[str, int] = {}
    rejected: dict[str, dict[str, int]] = {}
    newest: datetime | None = None
    for row in session.scalars(select(IngestCounterRow)):
        if row.outcome == ACCEPTED:
            accepted[row.source] = int(row.count)
        else:
            rejected.setdefault(row.source, {})[row.outcome] = int(row.count)
        newest = row.updated_at if newest is None else max(newest, row.updated_at)
    letters = session.execute(
        select(DeadLetterRow.reason, func.count()).group_by(DeadLetterRow.reason)
    ).all()
    return IngestStats(accepted, rejected, {r: int(n) for r, n in letters}, newest)
