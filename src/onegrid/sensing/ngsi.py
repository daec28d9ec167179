"""Devices and their latest values as NGSI-LD entities (ETSI GS CIM 009), for FIWARE clients.

One entity per device: ``urn:ngsi-ld:<Type>:<device id>``, the type from the device kind
(``ngsi_type``: FIWARE smart data model names where one fits, e.g. ``AirQualityObserved``).
Each quantity is a Property under the attribute name the smart data models use (``pm25``,
``no2``, ``temperature``…) with its ``value``, ``unitCode`` (UN/CEFACT) and ``observedAt``; the
place is the GeoProperty ``location``; ``name``, ``dateObserved``, and ``refDevice`` /
``refComponent`` Relationships complete it. ``keyValues`` gives the simplified form.

How far the compatibility goes is in docs/ngsi-ld.md: read-only, ``GET /entities`` with ``type``,
``id``, ``idPattern``, ``attrs``, ``q`` (comparisons joined by ``;``), ``limit``, ``offset``,
``count`` and ``options=keyValues``; ``GET /entities/{id}``; ``GET /types``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onegrid.core.errors import InvalidInput
from onegrid.sensing.domain.devices import DeviceKind
from onegrid.sensing.domain.units import QUANTITIES, cefact_code
from onegrid.sensing.queries import DeviceView

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
LINK_HEADER = (
    f'<{CORE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)
URN = "urn:ngsi-ld:"
ATTRIBUTE_OF: dict[str, str] = {q.ngsi: q.name for q in QUANTITIES.values()}
_Q = re.compile(r"^\s*([A-Za-z_][\w]*)\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$")


def entity_id(ngsi_type: str, device_id: str) -> str:
    return f"{URN}{ngsi_type}:{device_id}"


def device_of(entity: str) -> tuple[str, str] | None:
    """(type, device id) of an entity id we issue, or None."""
    if not entity.startswith(URN):
        return None
    ngsi_type, sep, device_id = entity[len(URN) :].partition(":")
    return (ngsi_type, device_id) if sep and device_id else None


def _time(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _measures(
    latest: Mapping[str, tuple[datetime, float]], keep: Any, key_values: bool
) -> tuple[dict[str, Any], datetime | None]:
    out: dict[str, Any] = {}
    newest: datetime | None = None
    for quantity in sorted(latest):
        observed, value = latest[quantity]
        q = QUANTITIES.get(quantity)
        if q is None or not keep(q.ngsi):
            continue
        newest = observed if newest is None else max(newest, observed)
        if key_values:
            out[q.ngsi] = value
            continue
        prop: dict[str, Any] = {"type": "Property", "value": value, "observedAt": _time(observed)}
        code = cefact_code(quantity)
        if code:
            prop["unitCode"] = code
        out[q.ngsi] = prop
    return out, newest


def to_entity(
    device: DeviceView,
    kind: DeviceKind,
    latest: Mapping[str, tuple[datetime, float]],
    *,
    attrs: Sequence[str] | None = None,
    key_values: bool = False,
    with_context: bool = False,
) -> dict[str, Any]:
    out: dict[str, Any] = {"id": entity_id(kind.ngsi_type, device.id), "type": kind.ngsi_type}
    wanted = set(attrs) if attrs else None

    def keep(name: str) -> bool:
        return wanted is None or name in wanted

    point = {"type": "Point", "coordinates": [device.lon, device.lat]}
    if keep("location"):
        out["location"] = point if key_values else {"type": "GeoProperty", "value": point}
    if keep("name"):
        out["name"] = device.name if key_values else {"type": "Property", "value": device.name}
    measures, newest = _measures(latest, keep, key_values)
    out.update(measures)
    if newest is not None and keep("dateObserved"):
        stamp = _time(newest)
        out["dateObserved"] = (
            stamp
            if key_values
            else {"type": "Property", "value": {"@type": "DateTime", "@value": stamp}}
        )
    refs = {"refDevice": f"{URN}Device:{device.id}"}
    if device.component_id:
        refs["refComponent"] = f"{URN}Component:{device.component_id}"
    for name, target in refs.items():
        if keep(name):
            out[name] = target if key_values else {"type": "Relationship", "object": target}
    if with_context:
        out["@context"] = [CORE_CONTEXT]
    return out


@dataclass(frozen=True)
class Condition:
    attribute: str
    op: str
    value: float | str


def parse_q(text: str | None) -> list[Condition]:
    """A subset of the NGSI-LD query language: ``attr op value`` terms joined by ``;`` (and)."""
    if not text:
        return []
    out = []
    for term in text.split(";"):
        match = _Q.match(term)
        if not match:
            raise InvalidInput.one("q", "ngsi_q", f"cannot read the query term {term!r}")
        name, op, raw = match.groups()
        raw = raw.strip('"')
        try:
            value: float | str = float(raw)
        except ValueError:
            value = raw
        out.append(Condition(name, op, value))
    return out


def _compare(left: Any, op: str, right: float | str) -> bool:
    if isinstance(right, str) or isinstance(left, str):
        if op == "==":
            return str(left) == str(right)
        if op == "!=":
            return str(left) != str(right)
        return False
    number = float(left)
    ops = {
        "==": number == right,
        "!=": number != right,
        ">": number > right,
        ">=": number >= right,
        "<": number < right,
        "<=": number <= right,
    }
    return ops[op]


def matches(entity_key_values: Mapping[str, Any], conditions: Sequence[Condition]) -> bool:
    for c in conditions:
        value = entity_key_values.get(c.attribute)
        if value is None or not _compare(value, c.op, c.value):
            return False
    return True
