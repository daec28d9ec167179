"""Device kinds and devices: what a device reports, in which units, and how often."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.sensing.domain.units import QUANTITIES, Conversion, UnitProblem, conversion

# A device id is one MQTT topic level: no '/', '+' or '#', nothing a URL would need to escape.
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
KIND_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
INTERVAL_MIN_S = 1
INTERVAL_MAX_S = 7 * 24 * 3600


@dataclass(frozen=True)
class DeviceKind:
    """A kind of device (air-quality station, manhole-cover sensor…), as data."""

    code: str
    name_zh: str
    name_en: str
    quantities: Mapping[str, str]  # quantity → the unit such a device sends by default
    interval_s: int
    ngsi_type: str
    component_classes: tuple[str, ...] = ()  # class prefixes it may be mounted on


@dataclass(frozen=True)
class Device:
    """A registered device as the ingest path needs it (kept in memory, looked up per reading)."""

    id: str
    kind: str
    quantities: Mapping[str, str]  # quantity → the unit it sends
    interval_s: float
    lon: float
    lat: float
    areas: Mapping[str, str] = field(default_factory=dict)  # level → area code
    component_id: str | None = None
    owner: str | None = None
    active: bool = True
    conversions: Mapping[str, Conversion] = field(default_factory=dict)

    @classmethod
    def build(cls, **values: Any) -> Device:
        """A device with its unit conversions worked out once (units were checked at
        registration; a unit that no longer converts drops the quantity)."""
        quantities: Mapping[str, str] = values["quantities"]
        conversions = {}
        for quantity, unit in quantities.items():
            try:
                conversions[quantity] = conversion(quantity, unit)
            except UnitProblem:
                continue
        return cls(**values, conversions=conversions)


@dataclass(frozen=True)
class DeviceDraft:
    id: str
    kind: str
    lon: float
    lat: float
    name: str = ""
    quantities: Mapping[str, str] | None = None  # None: the kind's quantities and units
    interval_s: int | None = None  # None: the kind's interval
    component_id: str | None = None
    owner: str | None = None
    note: str = ""


def _check_quantities(quantities: Mapping[str, str], out: list[FieldProblem]) -> None:
    for quantity, unit in quantities.items():
        where = f"quantities.{quantity}"
        if quantity not in QUANTITIES:
            out.append(FieldProblem(where, "known_quantity", f"unknown quantity {quantity!r}"))
            continue
        try:
            conversion(quantity, unit)
        except UnitProblem as exc:
            out.append(FieldProblem(where, "unit_for_quantity", str(exc)))


def _check_mount(component: str | None, kind: DeviceKind | None, out: list[FieldProblem]) -> None:
    if not component or kind is None or not kind.component_classes:
        return
    # A component ID is admin code (6) + class without its letter (4) + sequence (6).
    cls = "C" + component[6:10]
    if not any(cls.startswith(p) for p in kind.component_classes):
        allowed = ", ".join(kind.component_classes)
        out.append(
            FieldProblem(
                "component_id",
                "component_class_for_kind",
                f"a {kind.code} device is mounted on {allowed} components, not {cls}",
            )
        )


def _check_place(lon: float, lat: float, out: list[FieldProblem]) -> None:
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        out.append(FieldProblem("lon", "longitude", "lon is a longitude in -180..180"))
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        out.append(FieldProblem("lat", "latitude", "lat is a latitude in -90..90"))


def check_device(draft: DeviceDraft, kinds: Mapping[str, DeviceKind]) -> DeviceDraft:
    """The draft with the kind's defaults filled in, or every broken rule at once."""
    out: list[FieldProblem] = []
    device_id = draft.id.strip()
    if not DEVICE_ID.match(device_id):
        out.append(
            FieldProblem(
                "id",
                "device_id_format",
                "a device id is 1–64 letters, digits, '_', '.', ':' or '-', starting with a "
                "letter or digit (it is one MQTT topic level)",
            )
        )
    kind = kinds.get(draft.kind.strip())
    if kind is None:
        known = ", ".join(sorted(kinds))
        out.append(
            FieldProblem("kind", "known_kind", f"unknown kind {draft.kind!r}; known: {known}")
        )
    _check_place(draft.lon, draft.lat, out)
    quantities = dict(draft.quantities or {})
    if draft.quantities is None and kind is not None:
        quantities = dict(kind.quantities)
    if not quantities:
        out.append(FieldProblem("quantities", "required", "a device reports at least one quantity"))
    _check_quantities(quantities, out)
    interval = draft.interval_s
    if interval is None:
        interval = kind.interval_s if kind else INTERVAL_MIN_S
    if not INTERVAL_MIN_S <= interval <= INTERVAL_MAX_S:
        out.append(
            FieldProblem(
                "interval_s",
                "interval_range",
                f"the reporting interval is {INTERVAL_MIN_S}..{INTERVAL_MAX_S} seconds",
            )
        )
    component = (draft.component_id or "").strip() or None
    _check_mount(component, kind, out)
    if len(draft.name) > 200:
        out.append(FieldProblem("name", "max_length", "a name is at most 200 characters"))
    if out:
        raise InvalidInput(out)
    return DeviceDraft(
        device_id,
        draft.kind.strip(),
        draft.lon,
        draft.lat,
        draft.name.strip() or device_id,
        quantities,
        interval,
        component,
        (draft.owner or "").strip() or None,
        draft.note.strip(),
    )


def parse_kinds(data: Mapping[str, Any]) -> dict[str, DeviceKind]:
    """Device kinds from a document of the shape of ``data/device_kinds.yaml``."""
    out: dict[str, DeviceKind] = {}
    problems: list[FieldProblem] = []
    for i, spec in enumerate(data.get("kinds") or []):
        where = f"kinds[{i}]"
        code = str(spec.get("code", ""))
        if not KIND_CODE.match(code):
            problems.append(FieldProblem(f"{where}.code", "kind_code", f"bad kind code {code!r}"))
            continue
        quantities = {str(k): str(v) for k, v in (spec.get("quantities") or {}).items()}
        for quantity, unit in quantities.items():
            try:
                conversion(quantity, unit)
            except UnitProblem as exc:
                problems.append(FieldProblem(f"{where}.quantities.{quantity}", "unit", str(exc)))
        out[code] = DeviceKind(
            code,
            str(spec.get("name_zh", code)),
            str(spec.get("name_en", code)),
            quantities,
            int(spec.get("interval_s", 60)),
            str(spec.get("ngsi_type", "Device")),
            tuple(str(c) for c in spec.get("component_classes") or ()),
        )
    if problems:
        raise InvalidInput(problems)
    return out
