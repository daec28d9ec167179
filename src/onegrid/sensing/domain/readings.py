"""Readings: the payload schema, and the checks a reading passes before it is kept.

A message is a JSON object. On a device's own topic it holds one observation::

    {"ts": "2026-11-22T08:00:00Z", "values": {"pm2_5": 81.0, "co": 0.7}, "units": {"co": "mg/m³"}}

or several (``{"readings": [{"ts": …, "values": …}, …]}``, e.g. after the device was offline). On
a gateway's topic, and in an HTTP batch, it holds entries for many devices, each naming its
``device``. ``ts`` is ISO 8601 with a UTC offset, or seconds since the epoch; without it the time
of receipt is used. ``units`` is optional: a value without one is in the unit the device declared.

Every broken rule gives a ``Rejection`` with a reason code (counted and dead-lettered by the
ingester) and the place in the payload; the good readings of the same message are kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.units import Conversion, UnitProblem, conversion

# Seconds since the epoch above this are surely milliseconds (year 5138 in seconds).
_EPOCH_S_MAX = 1e11


class Reason(StrEnum):
    """Why a reading (or a whole message) was refused."""

    MALFORMED_JSON = "malformed_json"  # not JSON at all
    MALFORMED = "malformed"  # JSON, but not the payload schema
    UNKNOWN_TOPIC = "unknown_topic"
    TOPIC_MISMATCH = "topic_mismatch"  # an entry names another device than its topic
    UNKNOWN_DEVICE = "unknown_device"
    INACTIVE_DEVICE = "inactive_device"
    UNKNOWN_QUANTITY = "unknown_quantity"  # the device does not declare it
    UNIT_MISMATCH = "unit_mismatch"
    BAD_VALUE = "bad_value"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    FORBIDDEN_DEVICE = "forbidden_device"  # the sender may not post for this device


@dataclass(frozen=True, slots=True)
class Reading:
    device: Device
    quantity: str
    value: float  # in the quantity's canonical unit
    ts: float  # seconds since the epoch, UTC


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    field: str  # where in the payload, e.g. "readings[2].values.pm2_5"
    device_id: str | None = None
    entry: Any = None  # the refused entry (None: the whole message)


@dataclass(slots=True)
class Checked:
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def _at(index: int, name: str) -> str:
    """Where in the payload, spelt out only for a refusal (most entries are good)."""
    return name if index < 0 else f"readings[{index}].{name}"


class ReadingChecker:
    """Checks documents against the device registry; keeps small caches of what it parsed."""

    def __init__(self, registry: Mapping[str, Device], future_tolerance_s: float) -> None:
        self.registry = registry
        self.future_tolerance_s = future_tolerance_s
        self._ts_cache: dict[str, float] = {}
        self._units: dict[tuple[str, str], Conversion | str] = {}

    # -- timestamps ---------------------------------------------------------------------------

    def _timestamp(self, raw: Any, received: float) -> float | str:
        """Seconds since the epoch, or why ``raw`` is not a timestamp."""
        if raw is None:
            return received
        if isinstance(raw, str):
            found = self._ts_cache.get(raw)
            if found is not None:
                return found
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                return f"ts {raw[:40]!r} is not ISO 8601"
            if when.tzinfo is None:
                return f"ts {raw[:40]!r} has no UTC offset (add 'Z' or '+08:00')"
            value = when.timestamp()
            if len(self._ts_cache) > 4096:
                self._ts_cache.clear()
            self._ts_cache[raw] = value
            return value
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
            if not math.isfinite(value) or value < 0:
                return f"ts {raw!r} is not a time"
            if value > _EPOCH_S_MAX:
                return f"ts {raw!r} looks like milliseconds; send seconds since the epoch"
            return value
        return "ts is an ISO 8601 string or a number of seconds since the epoch"

    # -- units ----------------------------------------------------------------------------------

    def _conversion(self, device: Device, quantity: str, unit: Any) -> Conversion | str:
        if unit is None:
            return device.conversions[quantity]
        if not isinstance(unit, str):
            return f"the unit of {quantity} must be a string"
        key = (quantity, unit)
        found = self._units.get(key)
        if found is None:
            try:
                found = conversion(quantity, unit)
            except UnitProblem as exc:
                found = str(exc)
            self._units[key] = found
        return found

    # -- documents ------------------------------------------------------------------------------

    def check(self, doc: Any, *, topic_device: str | None, received: float, now: float) -> Checked:
        """Readings from one decoded message. ``topic_device``: the device of a device topic
        (entries default to it and may not name another); None for a gateway or a batch."""
        out = Checked()
        if not isinstance(doc, dict):
            out.rejections.append(
                Rejection(Reason.MALFORMED, "the payload must be a JSON object", "", topic_device)
            )
            return out
        entries = doc.get("readings")
        if entries is None and topic_device is not None:
            self._entry(doc, -1, topic_device, received, now, out)
            return out
        if not isinstance(entries, list):
            out.rejections.append(
                Rejection(
                    Reason.MALFORMED,
                    "expected 'readings': a list of {device, ts, values}",
                    "readings",
                    topic_device,
                )
            )
            return out
        entry_of = self._entry
        for i, entry in enumerate(entries):
            entry_of(entry, i, topic_device, received, now, out)
        return out

    def _entry(  # noqa: C901 - one pass over an entry, every rule in order
        self,
        entry: Any,
        index: int,  # in ``readings``; -1: the document is the entry
        topic_device: str | None,
        received: float,
        now: float,
        out: Checked,
    ) -> None:
        reject = out.rejections.append
        if not isinstance(entry, dict):
            where = "" if index < 0 else f"readings[{index}]"
            reject(Rejection(Reason.MALFORMED, "an entry is a JSON object", where, topic_device))
            return
        device_id = entry.get("device", topic_device)
        if not isinstance(device_id, str) or not device_id:
            reject(
                Rejection(Reason.MALFORMED, "name the 'device'", _at(index, "device"), None, entry)
            )
            return
        if topic_device is not None and device_id != topic_device:
            reject(
                Rejection(
                    Reason.TOPIC_MISMATCH,
                    f"entry names device {device_id[:64]!r} on the topic of {topic_device!r}",
                    _at(index, "device"),
                    topic_device,
                    entry,
                )
            )
            return
        device = self.registry.get(device_id)
        if device is None:
            reject(
                Rejection(
                    Reason.UNKNOWN_DEVICE,
                    f"no device {device_id[:64]!r} is registered",
                    _at(index, "device"),
                    device_id[:64],
                    entry,
                )
            )
            return
        if not device.active:
            reject(
                Rejection(
                    Reason.INACTIVE_DEVICE,
                    f"device {device_id} is retired",
                    _at(index, "device"),
                    device_id,
                    entry,
                )
            )
            return
        ts = entry.get("ts")
        if ts.__class__ is not float or not 0.0 <= ts <= _EPOCH_S_MAX:  # not the common case
            ts = self._timestamp(ts, received)
        if isinstance(ts, str):
            reject(Rejection(Reason.BAD_TIMESTAMP, ts, _at(index, "ts"), device_id, entry))
            return
        if ts > now + self.future_tolerance_s:
            reject(
                Rejection(
                    Reason.FUTURE_TIMESTAMP,
                    f"ts is {ts - now:.0f} s ahead of the server clock "
                    f"(at most {self.future_tolerance_s:.0f} s allowed)",
                    _at(index, "ts"),
                    device_id,
                    entry,
                )
            )
            return
        values = entry.get("values")
        if not isinstance(values, dict) or not values:
            reject(
                Rejection(
                    Reason.MALFORMED,
                    "'values' maps quantities to numbers",
                    _at(index, "values"),
                    device_id,
                    entry,
                )
            )
            return
        units = entry.get("units") or {}
        if not isinstance(units, dict):
            reject(
                Rejection(
                    Reason.MALFORMED,
                    "'units' maps quantities to unit names",
                    _at(index, "units"),
                    device_id,
                    entry,
                )
            )
            return
        declared = device.quantities
        conversions = device.conversions
        append = out.readings.append
        for quantity, raw in values.items():
            if quantity not in declared:
                reject(
                    Rejection(
                        Reason.UNKNOWN_QUANTITY,
                        f"device {device_id} does not report {quantity[:40]!r} (it reports "
                        f"{', '.join(declared)})",
                        _at(index, f"values.{quantity[:40]}"),
                        device_id,
                        entry,
                    )
                )
                continue
            if raw.__class__ is float or raw.__class__ is int:
                value = float(raw)
            elif isinstance(raw, bool):
                value = 1.0 if raw else 0.0
            else:
                reject(
                    Rejection(
                        Reason.BAD_VALUE,
                        f"{quantity} must be a number (or true/false), not {str(raw)[:40]!r}",
                        _at(index, f"values.{quantity}"),
                        device_id,
                        entry,
                    )
                )
                continue
            unit = units.get(quantity) if units else None
            convert = (
                conversions[quantity] if unit is None else self._conversion(device, quantity, unit)
            )
            if isinstance(convert, str):
                reject(
                    Rejection(
                        Reason.UNIT_MISMATCH,
                        convert,
                        _at(index, f"units.{quantity}"),
                        device_id,
                        entry,
                    )
                )
                continue
            if not convert.identity:
                value = convert(value)
            if not math.isfinite(value):
                reject(
                    Rejection(
                        Reason.BAD_VALUE,
                        f"{quantity} is not a finite number",
                        _at(index, f"values.{quantity}"),
                        device_id,
                        entry,
                    )
                )
                continue
            append(Reading(device, quantity, value, ts))
