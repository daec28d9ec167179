"""The sensing API's shapes."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import shapely.geometry
from pydantic import BaseModel, ConfigDict, Field

from onegrid.sensing.bikewatch import AreasLoaded, ParkingArea
from onegrid.sensing.domain.devices import DeviceKind
from onegrid.sensing.domain.units import QUANTITIES
from onegrid.sensing.queries import AlertView, DeadLetterView, DeviceView, IngestStats
from onegrid.sensing.series import Series

# The HTTP batch is read as raw JSON by the same checker the MQTT path uses (so both refuse the
# same things for the same reasons); this schema documents it in /openapi.json.
READINGS_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["readings"],
    "properties": {
        "readings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["device", "values"],
                "properties": {
                    "device": {"type": "string", "description": "A registered device id."},
                    "ts": {
                        "oneOf": [
                            {"type": "string", "format": "date-time"},
                            {"type": "number", "description": "seconds since the epoch"},
                        ],
                        "description": "When it was measured; default: when it was received.",
                    },
                    "values": {
                        "type": "object",
                        "additionalProperties": {"type": ["number", "boolean"]},
                        "description": 'Quantity → value, e.g. {"pm2_5": 81.0}.',
                    },
                    "units": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Quantity → unit, when not the device's declared unit.",
                    },
                },
            },
        }
    },
    "example": {
        "readings": [
            {
                "device": "AQ-0001",
                "ts": "2026-11-22T08:00:00Z",
                "values": {"pm2_5": 81.0, "co": 700},
                "units": {"co": "µg/m³"},
            }
        ]
    },
}


class IngestResultOut(BaseModel):
    accepted: int = Field(description="Readings checked and stored")
    alerts_raised: list[int]
    alerts_reopened: list[int]
    alerts_cleared: list[int]


class IngestStatsOut(BaseModel):
    accepted: dict[str, int] = Field(description="Readings kept, by source (mqtt, http…)")
    rejected: dict[str, dict[str, int]] = Field(description="Refusals by source, then reason")
    dead_letters: dict[str, int] = Field(description="Dead letters stored, by reason")
    updated_at: datetime | None

    @classmethod
    def of(cls, s: IngestStats) -> IngestStatsOut:
        return cls(
            accepted=s.accepted,
            rejected=s.rejected,
            dead_letters=s.dead_letters,
            updated_at=s.updated_at,
        )


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    source: str
    topic: str | None
    device_id: str | None
    reason: str
    field: str
    detail: str
    payload: str = Field(description="As received: UTF-8 text, or base64 when not text")
    payload_encoding: str = Field(description="utf-8 or base64")

    @classmethod
    def of(cls, d: DeadLetterView) -> DeadLetterOut:
        try:
            text, encoding = d.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(d.payload).decode("ascii"), "base64"
        return cls(
            id=d.id,
            received_at=d.received_at,
            source=d.source,
            topic=d.topic,
            device_id=d.device_id,
            reason=d.reason,
            field=d.field,
            detail=d.detail,
            payload=text,
            payload_encoding=encoding,
        )


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="A device kind code, see /sensing/device-kinds")
    lon: float
    lat: float
    name: str = ""
    quantities: dict[str, str] | None = Field(
        default=None, description="Quantity → the unit it sends; default: the kind's"
    )
    interval_s: int | None = Field(default=None, description="Expected reporting interval")
    component_id: str | None = Field(default=None, description="The component it is mounted on")
    owner: str | None = Field(default=None, description="Owning department code")
    note: str = ""


class LatestOut(BaseModel):
    value: float
    unit: str
    observed_at: datetime


class DeviceOut(BaseModel):
    id: str
    kind: str
    name: str
    lon: float
    lat: float
    h3_10: str | None
    areas: dict[str, str] = Field(description="Level → area code where the device stands")
    component_id: str | None
    owner_department: str | None
    quantities: dict[str, str]
    interval_s: int
    active: bool
    note: str
    created_at: datetime
    updated_at: datetime
    latest: dict[str, LatestOut] | None = None

    @classmethod
    def of(
        cls, d: DeviceView, latest: dict[str, tuple[datetime, float]] | None = None
    ) -> DeviceOut:
        return cls(
            id=d.id,
            kind=d.kind,
            name=d.name,
            lon=d.lon,
            lat=d.lat,
            h3_10=d.h3_10,
            areas=d.areas,
            component_id=d.component_id,
            owner_department=d.owner_department,
            quantities=d.quantities,
            interval_s=d.interval_s,
            active=d.active,
            note=d.note,
            created_at=d.created_at,
            updated_at=d.updated_at,
            latest=None
            if latest is None
            else {
                q: LatestOut(value=v, unit=QUANTITIES[q].unit, observed_at=t)
                for q, (t, v) in latest.items()
                if q in QUANTITIES
            },
        )


class DevicePageOut(BaseModel):
    total: int
    items: list[DeviceOut]


class DeviceKindOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    quantities: dict[str, str]
    interval_s: int
    ngsi_type: str
    component_classes: list[str]

    @classmethod
    def of(cls, k: DeviceKind) -> DeviceKindOut:
        return cls(
            code=k.code,
            name_zh=k.name_zh,
            name_en=k.name_en,
            quantities=dict(k.quantities),
            interval_s=k.interval_s,
            ngsi_type=k.ngsi_type,
            component_classes=list(k.component_classes),
        )


class BucketOut(BaseModel):
    start: datetime
    count: int
    mean: float
    min: float
    max: float


class SeriesOut(BaseModel):
    quantity: str
    unit: str
    start: datetime
    end: datetime
    bucket_s: int
    devices: int = Field(description="Devices the series covers; -1: every device")
    points: list[BucketOut]

    @classmethod
    def of(cls, s: Series) -> SeriesOut:
        return cls(
            quantity=s.quantity,
            unit=QUANTITIES[s.quantity].unit,
            start=s.start,
            end=s.end,
            bucket_s=s.bucket_s,
            devices=s.devices,
            points=[
                BucketOut(start=p.start, count=p.count, mean=p.mean, min=p.min, max=p.max)
                for p in s.points
            ],
        )


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    case_state: str = Field(description="pending, opened, failed, or none (the rule opens none)")
    case_id: int | None
    case_number: str | None
    case_note: str | None

    @classmethod
    def of(cls, a: AlertView) -> AlertOut:
        return cls.model_validate(a)


class RulesIn(BaseModel):
    rules: list[dict[str, Any]] = Field(description="Rule mappings as in data/rules.yaml")
    replace: bool = Field(default=False, description="Disable stored rules not named here")


class RulesChangedOut(BaseModel):
    changed: list[str]


class BikeAreaIn(BaseModel):
    """A parking area: a GeoJSON ``Polygon``/``MultiPolygon``, or a ``Point`` (or ``lon`` and
    ``lat``) with ``radius_m``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200, description="Default: the code")
    capacity: int = Field(ge=0, description="Bikes the area holds")
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON geometry, WGS84")
    lon: float | None = None
    lat: float | None = None
    radius_m: float | None = Field(default=None, description="For a point: metres around it")


class BikeAreaOut(BaseModel):
    code: str
    name: str
    capacity: int
    lon: float = Field(description="A point inside the area")
    lat: float
    active: bool
    updated_at: datetime | None
    geometry: dict[str, Any] = Field(description="GeoJSON, WGS84")

    @classmethod
    def of(cls, a: ParkingArea) -> BikeAreaOut:
        return cls(
            code=a.code,
            name=a.name,
            capacity=a.capacity,
            lon=a.lon,
            lat=a.lat,
            active=a.active,
            updated_at=a.updated_at,
            geometry=dict(shapely.geometry.mapping(a.geometry)),
        )


class BikeAreasLoadedOut(BaseModel):
    added: list[str]
    changed: list[str]
    deactivated: list[str]

    @classmethod
    def of(cls, loaded: AreasLoaded) -> BikeAreasLoadedOut:
        return cls(added=loaded.added, changed=loaded.changed, deactivated=loaded.deactivated)
