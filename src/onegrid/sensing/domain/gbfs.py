"""GBFS feeds, versions 2.3 and 3.0: the parts that say where bikes are parked.

Written from the GBFS specification as we know it (no copy of the spec was at hand; ADR 0009):

* discovery ``gbfs.json``: v2.3 lists feeds per language, ``data.<lang>.feeds[]``; v3.0 has one
  list, ``data.feeds[]``; each feed is ``{name, url}``.
* free-floating vehicles: v2.3 ``free_bike_status`` → ``data.bikes[]`` with ``bike_id``; v3.0
  ``vehicle_status`` → ``data.vehicles[]`` with ``vehicle_id``. Both carry ``lat``, ``lon``,
  ``is_reserved``, ``is_disabled``, optionally ``station_id`` (then the vehicle is docked and
  ``lat``/``lon`` may be absent) and ``vehicle_type_id``.
* ``station_information`` → ``data.stations[]`` with ``station_id``, ``name`` (a string in v2.3,
  a list of ``{text, language}`` in v3.0), ``lat``, ``lon``, optional ``capacity``.
* ``station_status`` → ``data.stations[]`` with ``num_bikes_available``/``num_bikes_disabled``
  (v2.3) or ``num_vehicles_available``/``num_vehicles_disabled`` (v3.0).
* ``last_updated`` is POSIX seconds in v2.3 and an RFC 3339 string in v3.0.

A record that breaks the schema is skipped and named in ``problems``; a document that is not a
feed at all raises ``GbfsProblem``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class GbfsProblem(ValueError):
    """The document is not the GBFS feed it was read as."""


@dataclass(frozen=True)
class FeedMeta:
    version: str
    last_updated: float  # seconds since the epoch
    ttl: int


@dataclass(frozen=True)
class Vehicle:
    id: str
    lat: float | None
    lon: float | None
    station_id: str | None
    reserved: bool
    disabled: bool
    type_id: str | None = None


@dataclass(frozen=True)
class StationInfo:
    id: str
    name: str
    lat: float
    lon: float
    capacity: int | None = None


@dataclass(frozen=True)
class StationStatus:
    id: str
    available: int
    disabled: int


@dataclass
class Parsed(Generic[T]):
    meta: FeedMeta
    items: list[T] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _meta(doc: Any, feed: str) -> FeedMeta:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("data"), Mapping):
        raise GbfsProblem(f"{feed}: not a GBFS document (no 'data' object)")
    raw = doc.get("last_updated")
    version = str(doc.get("version") or ("3.0" if isinstance(raw, str) else "2.3"))
    if isinstance(raw, str):
        try:
            updated = datetime.fromisoformat(raw).timestamp()
        except ValueError:
            raise GbfsProblem(f"{feed}: last_updated {raw!r} is not RFC 3339") from None
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        updated = float(raw)
    else:
        raise GbfsProblem(f"{feed}: last_updated is missing")
    ttl = doc.get("ttl", 0)
    return FeedMeta(version, updated, int(ttl) if isinstance(ttl, int | float) else 0)


def _coordinate(record: Mapping[str, Any], name: str, limit: float) -> float | None:
    value = record.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} is not a number")
    if not (math.isfinite(value) and -limit <= value <= limit):
        raise ValueError(f"{name} {value} is out of range")
    return float(value)


def _records(doc: Mapping[str, Any], key: str, feed: str) -> list[Any]:
    records = doc["data"].get(key)
    if not isinstance(records, list):
        raise GbfsProblem(f"{feed}: data.{key} is not a list")
    return records


def _count(record: Mapping[str, Any], *names: str) -> int:
    for name in names:
        value = record.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} is not a count")
            return value
    return 0


def parse_vehicles(doc: Any) -> Parsed[Vehicle]:
    """``free_bike_status`` (v2.x) or ``vehicle_status`` (v3.x)."""
    meta = _meta(doc, "vehicle feed")
    v3 = _major(meta.version) >= 3 or "vehicles" in doc["data"]
    key, id_field = ("vehicles", "vehicle_id") if v3 else ("bikes", "bike_id")
    out: Parsed[Vehicle] = Parsed(meta)
    for i, record in enumerate(_records(doc, key, "vehicle feed")):
        try:
            if not isinstance(record, Mapping):
                raise ValueError("not an object")
            vehicle_id = record.get(id_field)
            if not isinstance(vehicle_id, str | int) or vehicle_id == "":
                raise ValueError(f"{id_field} is missing")
            lat = _coordinate(record, "lat", 90)
            lon = _coordinate(record, "lon", 180)
            station = record.get("station_id")
            if (lat is None or lon is None) and not station:
                raise ValueError("neither lat/lon nor station_id")
            out.items.append(
                Vehicle(
                    str(vehicle_id),
                    lat,
                    lon,
                    str(station) if station else None,
                    bool(record.get("is_reserved", False)),
                    bool(record.get("is_disabled", False)),
                    str(record["vehicle_type_id"]) if record.get("vehicle_type_id") else None,
                )
            )
        except ValueError as exc:
            out.problems.append(f"data.{key}[{i}]: {exc}")
    return out


def _name(raw: Any) -> str:
    if isinstance(raw, list):  # v3: localized strings
        texts = [t.get("text", "") for t in raw if isinstance(t, Mapping)]
        return str(texts[0]) if texts else ""
    return "" if raw is None else str(raw)


def parse_station_information(doc: Any) -> Parsed[StationInfo]:
    meta = _meta(doc, "station_information")
    out: Parsed[StationInfo] = Parsed(meta)
    for i, record in enumerate(_records(doc, "stations", "station_information")):
        try:
            if not isinstance(record, Mapping) or not record.get("station_id"):
                raise ValueError("station_id is missing")
            lat = _coordinate(record, "lat", 90)
            lon = _coordinate(record, "lon", 180)
            if lat is None or lon is None:
                raise ValueError("lat/lon are missing")
            capacity = record.get("capacity")
            out.items.append(
                StationInfo(
                    str(record["station_id"]),
                    _name(record.get("name")),
                    lat,
                    lon,
                    int(capacity) if isinstance(capacity, int | float) else None,
                )
            )
        except ValueError as exc:
            out.problems.append(f"data.stations[{i}]: {exc}")
    return out


def parse_station_status(doc: Any) -> Parsed[StationStatus]:
    meta = _meta(doc, "station_status")
    out: Parsed[StationStatus] = Parsed(meta)
    for i, record in enumerate(_records(doc, "stations", "station_status")):
        try:
            if not isinstance(record, Mapping) or not record.get("station_id"):
                raise ValueError("station_id is missing")
            out.items.append(
                StationStatus(
                    str(record["station_id"]),
                    _count(record, "num_vehicles_available", "num_bikes_available"),
                    _count(record, "num_vehicles_disabled", "num_bikes_disabled"),
                )
            )
        except ValueError as exc:
            out.problems.append(f"data.stations[{i}]: {exc}")
    return out


VEHICLE_FEEDS = ("vehicle_status", "free_bike_status")
STATION_FEEDS = ("station_information", "station_status")


def parse_discovery(doc: Any, language: str | None = None) -> dict[str, str]:
    """Feed name → URL from ``gbfs.json`` (v2.3: the given or first language)."""
    meta = _meta(doc, "gbfs.json")
    data = doc["data"]
    if _major(meta.version) >= 3 or "feeds" in data:
        feeds = data.get("feeds")
    else:
        lang = language if language in data else next(iter(data), None)
        feeds = data[lang].get("feeds") if lang is not None else None
    if not isinstance(feeds, list):
        raise GbfsProblem("gbfs.json: no feeds list")
    return {
        str(f["name"]): str(f["url"])
        for f in feeds
        if isinstance(f, Mapping) and f.get("name") and f.get("url")
    }
