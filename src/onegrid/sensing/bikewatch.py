"""Shared bikes: operators and parking areas as data, reading GBFS feeds, counting bikes per
area, and raising oversaturation alerts (and cases for the operators) after a grace period.

Areas: configured parking areas (polygons, e.g. a buffer around a metro exit) are matched first;
a bike in none of them counts in its H3 res-10 cell, whose capacity is the configured default
(``ONEGRID_SENSING_BIKE_CELL_CAPACITY``). A cell's area code is the cell index itself.

Alerts are rows of ``sensing_alerts`` with rule ``bikes.oversaturated`` and subject
``<operator>@<area>``: one per operator and area, routed to the operator's department, category
E0506 (shared-bike disorder). An operator whose feed shows more bikes than its fleet quota has
one alert of rule ``bikes.fleet_over_quota`` (subject: the operator), placed in the city's area
and routed the same way: the operator is the one who must take bikes off the street.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import h3
import httpx
import numpy as np
import orjson
import shapely
from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.core.logging import get_logger
from onegrid.core.settings import get_settings
from onegrid.core.yamlfile import read_yaml
from onegrid.db.session import Database
from onegrid.grid.locator_h3 import points_to_cells
from onegrid.grid.queries import get_area as grid_area
from onegrid.grid.queries import list_areas as grid_areas
from onegrid.grid.queries import locate
from onegrid.people.domain import Principal
from onegrid.people.policy import require
from onegrid.people.queries import find_department
from onegrid.sensing.domain.bikes import (
    AreaCount,
    AreaWatch,
    BikeChange,
    BikeEvent,
    FleetEvent,
    ParkedGroup,
    fleets_over_quota,
    judge,
    judge_fleets,
    parked_groups,
)
from onegrid.sensing.domain.gbfs import (
    STATION_FEEDS,
    VEHICLE_FEEDS,
    GbfsProblem,
    Parsed,
    StationInfo,
    StationStatus,
    parse_discovery,
    parse_station_information,
    parse_station_status,
    parse_vehicles,
)
from onegrid.sensing.domain.parking import AREA_CODE_MAX as AREA_CODE_MAX
from onegrid.sensing.domain.parking import AreaDraft, check_code, list_key, parse_areas
from onegrid.sensing.domain.parking import buffer as buffer
from onegrid.sensing.models import (
    AlertRow,
    BikeAreaRow,
    BikeCountRow,
    BikeOperatorRow,
    BikeWatchRow,
)
from onegrid.sensing.store import ACTIVE, CASE_PENDING, CLEARED, Written, utc

log = get_logger("onegrid.sensing.bikes")
RULE = "bikes.oversaturated"
FLEET_RULE = "bikes.fleet_over_quota"
CATEGORY = "E0506"
CELL_RES = 10
ADMIN = "sensing.admin"


# --- configuration ----------------------------------------------------------------------------


def set_operator(
    session: Session,
    code: str,
    name: str,
    department_code: str,
    clock: Clock,
    *,
    fleet_quota: int | None = None,
    feed_url: str | None = None,
) -> None:
    """Add or change an operator; its cases go to ``department_code``."""
    if not code or len(code) > 32 or "@" in code:
        raise InvalidInput.one("code", "operator_code", "an operator code is 1–32 chars, no '@'")
    if find_department(session, department_code) is None:
        raise InvalidInput.one(
            "department_code", "known_department", f"no department {department_code!r}"
        )
    if fleet_quota is not None and fleet_quota < 0:
        raise InvalidInput.one("fleet_quota", "min", "a fleet quota is not negative")
    row = session.get(BikeOperatorRow, code) or BikeOperatorRow(code=code)
    row.name, row.department_code = name, department_code
    row.fleet_quota, row.feed_url, row.active = fleet_quota, feed_url, True
    row.updated_at = clock.now()
    session.add(row)
    session.flush()


def set_area(
    session: Session,
    code: str,
    name: str,
    geometry: shapely.Geometry,
    capacity: int,
    clock: Clock,
    *,
    by: Principal | None = None,
    timezone: str | None = None,
) -> ParkingArea:
    """Add or change a parking area with its capacity (bikes it holds)."""
    problems = check_code(code)
    if capacity < 0:
        problems.append(FieldProblem("capacity", "min", "a capacity is not negative"))
    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon) or not geometry.is_valid:
        problems.append(FieldProblem("geometry", "polygon", "a parking area is a valid polygon"))
    if problems:
        raise InvalidInput(problems)
    return save_area(
        session, AreaDraft(code, name, capacity, geometry), clock, by=by, timezone=timezone
    )


def save_area(
    session: Session,
    draft: AreaDraft,
    clock: Clock,
    *,
    by: Principal | None = None,
    timezone: str | None = None,
    at: str = "",
) -> ParkingArea:
    """The one write path of parking areas (code, the CLI's file, HTTP): the area must lie in
    the city of its today (``timezone``: the city's), and ``by`` may manage sensing there.
    ``at`` prefixes the field a refusal names (``features[3].``)."""
    point = draft.geometry.representative_point()
    lon, lat = float(point.x), float(point.y)
    where = locate(session, lon, lat, city_today(clock, timezone or get_settings().timezone))
    if where is None:
        raise InvalidInput.one(
            f"{at}geometry",
            "inside_city",
            f"the area at ({lon:.6f}, {lat:.6f}) lies outside the city",
        )
    if by is not None:
        require(by, ADMIN, area_chain=where.area_chain)
    row = session.get(BikeAreaRow, draft.code, with_for_update=True) or BikeAreaRow(code=draft.code)
    row.name, row.capacity = draft.name, draft.capacity
    row.geometry = shapely.to_wkb(draft.geometry)
    row.lon, row.lat = lon, lat
    row.active = True
    row.updated_at = clock.now()
    session.add(row)
    session.flush()
    return _area_of(row)


def read_areas_file(path: Path) -> tuple[list[AreaDraft], str]:
    """The checked areas of a GeoJSON (``.geojson``, ``.json``) or YAML file, and the name of its
    list (``features`` or ``areas``, for the fields a later refusal names)."""
    doc: Any
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            doc = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise InvalidInput.one(
                "file", "readable", f"cannot read {path}: {exc.strerror}"
            ) from None
        except orjson.JSONDecodeError as exc:
            raise InvalidInput.one("file", "json", f"{path} is not valid JSON: {exc}") from None
    else:
        doc = read_yaml(path)
    drafts = parse_areas(doc)
    return drafts, list_key(doc)


def load_areas(
    session: Session,
    drafts: Sequence[AreaDraft],
    clock: Clock,
    *,
    by: Principal | None = None,
    replace: bool = False,
    timezone: str | None = None,
    key: str = "areas",
) -> AreasLoaded:
    """Store a file's areas, in the caller's transaction: a refusal of any (outside the city,
    not allowed) raises, and the caller's rollback stores none. ``replace`` deactivates the
    stored areas the file leaves out (so a district's admin may load the district's areas, but
    not replace the city's). ``key`` is the file's list (``features``), for refusals."""
    out = AreasLoaded()
    before = {a.code: a for a in list_areas(session, include_inactive=True)}
    for i, draft in enumerate(drafts):
        old = before.get(draft.code)
        area = save_area(session, draft, clock, by=by, timezone=timezone, at=f"{key}[{i}].")
        if old is None:
            out.added.append(draft.code)
        elif not _same(old, area):
            out.changed.append(draft.code)
    if replace:
        named = {d.code for d in drafts}
        for code, old in before.items():
            if code not in named and old.active:
                deactivate_area(session, code, clock, by=by)
                out.deactivated.append(code)
    return out


def _same(old: ParkingArea, new: ParkingArea) -> bool:
    return (old.name, old.capacity, old.active) == (new.name, new.capacity, new.active) and bool(
        old.geometry.equals_exact(new.geometry, 1e-12)
    )


def deactivate_area(
    session: Session, code: str, clock: Clock, *, by: Principal | None = None
) -> ParkingArea:
    """An inactive area counts no bikes (they fall back to their cells, and its open alerts
    clear at the next round); it stays on record and a later load brings it back."""
    row = session.get(BikeAreaRow, code, with_for_update=True)
    if row is None:
        raise NotFound(f"no parking area {code!r}")
    if by is not None:
        where = locate(session, row.lon, row.lat, city_today(clock, get_settings().timezone))
        require(by, ADMIN, area_chain=where.area_chain if where else ())
    row.active = False
    row.updated_at = clock.now()
    session.flush()
    return _area_of(row)


@dataclass
class AreasLoaded:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Operator:
    code: str
    name: str
    department_code: str
    fleet_quota: int | None
    feed_url: str | None


def operators(session: Session) -> list[Operator]:
    rows = session.scalars(
        select(BikeOperatorRow)
        .where(BikeOperatorRow.active.is_(True))
        .order_by(BikeOperatorRow.code)
    )
    return [Operator(r.code, r.name, r.department_code, r.fleet_quota, r.feed_url) for r in rows]


@dataclass(frozen=True)
class ParkingArea:
    code: str
    name: str
    capacity: int
    geometry: Any
    lon: float
    lat: float
    active: bool = True
    updated_at: datetime | None = None


def _area_of(row: BikeAreaRow) -> ParkingArea:
    return ParkingArea(
        row.code,
        row.name,
        row.capacity,
        shapely.from_wkb(row.geometry),
        row.lon,
        row.lat,
        row.active,
        row.updated_at,
    )


def list_areas(session: Session, *, include_inactive: bool = False) -> list[ParkingArea]:
    query = select(BikeAreaRow).order_by(BikeAreaRow.code)
    if not include_inactive:
        query = query.where(BikeAreaRow.active.is_(True))
    return [_area_of(r) for r in session.scalars(query)]


def parking_areas(session: Session) -> list[ParkingArea]:
    """The active areas: those the watch counts in."""
    return list_areas(session)


def get_area(session: Session, code: str) -> ParkingArea:
    row = session.get(BikeAreaRow, code)
    if row is None:
        raise NotFound(f"no parking area {code!r}")
    return _area_of(row)


# --- reading feeds ----------------------------------------------------------------------------


def read_json(location: str, client: httpx.Client | None = None) -> Any:
    """A JSON document from an http(s) URL, a file:// URL or a path."""
    if location.startswith(("http://", "https://")):
        if client is None:
            raise InvalidInput.one("feed_url", "client", "an HTTP feed needs a client")
        response = client.get(location)
        response.raise_for_status()
        return orjson.loads(response.content)
    path = Path(urlsplit(location).path if location.startswith("file://") else location)
    return orjson.loads(path.read_bytes())


def _resolve(base: str, url: str) -> str:
    if url.startswith(("http://", "https://", "file://", "/")):
        return url
    if base.startswith(("http://", "https://")):
        return urljoin(base, url)
    return str(Path(urlsplit(base).path if base.startswith("file://") else base).parent / url)


@dataclass
class FeedReading:
    operator: str
    groups: list[ParkedGroup] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_updated: float = 0.0

    @property
    def fleet(self) -> int:
        return sum(g.count for g in self.groups)


def _is_discovery(doc: Any) -> bool:
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        return False
    return "feeds" in data or any(isinstance(v, dict) and "feeds" in v for v in data.values())


def read_feed(operator: str, url: str, client: httpx.Client | None = None) -> FeedReading:
    """Where an operator's bikes are parked, from its ``gbfs.json`` (or a vehicle feed)."""
    out = FeedReading(operator)
    doc = read_json(url, client)
    if not _is_discovery(doc):
        alone = parse_vehicles(doc)
        out.groups = parked_groups(operator, alone.items)
        out.problems, out.last_updated = alone.problems, alone.meta.last_updated
        return out
    feeds = {name: _resolve(url, u) for name, u in parse_discovery(doc).items()}
    vehicle_url = next((feeds[n] for n in VEHICLE_FEEDS if n in feeds), None)
    vehicles = parse_vehicles(read_json(vehicle_url, client)) if vehicle_url else None
    stations: Parsed[StationInfo] | None = None
    statuses: Parsed[StationStatus] | None = None
    if all(n in feeds for n in STATION_FEEDS):
        stations = parse_station_information(read_json(feeds["station_information"], client))
        statuses = parse_station_status(read_json(feeds["station_status"], client))
    if vehicles is None and statuses is None:
        raise GbfsProblem(f"{url}: no vehicle feed and no station feeds")
    out.groups = parked_groups(
        operator,
        vehicles.items if vehicles else (),
        stations.items if stations else (),
        statuses.items if statuses else (),
    )
    for parsed in (vehicles, stations, statuses):
        if parsed is not None:
            out.problems += parsed.problems
            out.last_updated = max(out.last_updated, parsed.meta.last_updated)
    return out


# --- counting --------------------------------------------------------------------------------


def count_areas(
    groups: Sequence[ParkedGroup], areas: Sequence[ParkingArea], cell_capacity: int
) -> dict[str, AreaCount]:
    """Bikes per area and operator: configured areas first, else the res-10 cell."""
    if not groups:
        return {}
    lon = np.array([g.lon for g in groups], dtype=np.float64)
    lat = np.array([g.lat for g in groups], dtype=np.float64)
    where: list[str | None] = [None] * len(groups)
    capacity: dict[str, int] = {}
    if areas:
        tree = shapely.STRtree([a.geometry for a in areas])
        points, hits = tree.query(shapely.points(lon, lat), predicate="within")
        for p, h in sorted(zip(points.tolist(), hits.tolist(), strict=True)):
            if where[p] is None:
                where[p] = areas[h].code
        capacity = {a.code: a.capacity for a in areas}
    loose = [i for i, w in enumerate(where) if w is None]
    if loose:
        cells = points_to_cells(lon[loose], lat[loose], CELL_RES)
        for i, cell in zip(loose, cells.tolist(), strict=True):
            where[i] = h3.int_to_str(int(cell))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for group, area in zip(groups, where, strict=True):
        assert area is not None
        counts[area][group.operator] += group.count
    return {
        area: AreaCount(area, capacity.get(area, cell_capacity), dict(by_op))
        for area, by_op in counts.items()
    }


def area_point(code: str, areas: Mapping[str, ParkingArea]) -> tuple[float, float]:
    found = areas.get(code)
    if found is not None:
        return found.lon, found.lat
    lat, lon = h3.cell_to_latlng(code)
    return float(lon), float(lat)


# --- watching ---------------------------------------------------------------------------------


@dataclass
class WatchReport:
    at: datetime
    operators: int = 0
    bikes: int = 0
    areas: int = 0
    over: int = 0
    problems: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # operator → why its feed failed
    fleets: dict[str, int] = field(default_factory=dict)
    over_quota: list[tuple[str, int, int]] = field(default_factory=list)  # (op, fleet, quota)
    events: list[BikeEvent] = field(default_factory=list)
    fleet_events: list[FleetEvent] = field(default_factory=list)
    written: Written = field(default_factory=Written)


def _load_watches(session: Session) -> dict[str, AreaWatch]:
    return {
        r.area_code: AreaWatch(
            r.over_since.timestamp() if r.over_since else None, set(r.alerted or [])
        )
        for r in session.scalars(select(BikeWatchRow))
    }


def _store_watches(session: Session, watches: Mapping[str, AreaWatch], now: datetime) -> None:
    session.execute(delete(BikeWatchRow))
    if watches:
        session.execute(
            insert(BikeWatchRow),
            [
                {
                    "area_code": area,
                    "over_since": utc(w.over_since) if w.over_since is not None else None,
                    "alerted": sorted(w.alerted),
                    "updated_at": now,
                }
                for area, w in sorted(watches.items())
            ],
        )


def _alert_values(
    session: Session,
    event: BikeEvent,
    op: Operator | None,
    areas: Mapping[str, ParkingArea],
    now: datetime,
    today: date,
) -> dict[str, Any]:
    lon, lat = area_point(event.area, areas)
    located = locate(session, lon, lat, today)
    name = areas[event.area].name if event.area in areas else f"H3 cell {event.area}"
    description = (
        f"{event.total} shared bikes parked in {name}, capacity {event.capacity}; "
        f"{event.count} of them are {op.name if op else event.operator}'s (its share "
        f"{event.share:.0f})."
    )
    chain = located.area_chain if located else ()
    return {
        "rule_code": RULE,
        "subject_kind": "bike_area",
        "subject": f"{event.operator}@{event.area}"[:64],
        "open_key": f"{RULE}|{event.operator}@{event.area}",
        "status": ACTIVE,
        "description": description,
        "started_at": utc(event.over_since),
        "raised_at": now,
        "last_fired_at": now,
        "cleared_at": None,
        "fire_count": 1,
        "episodes": 1,
        "first_value": float(event.count),
        "last_value": float(event.count),
        "peak_value": float(event.count),
        "unit": "count",
        "lon": lon,
        "lat": lat,
        "area_code": chain[-1] if chain else None,
        "component_id": None,
        "category_code": CATEGORY,
        "urgency": None,
        "department_code": op.department_code if op else None,
        "case_state": CASE_PENDING if located else "none",
        "case_id": None,
        "case_number": None,
        "case_note": None if located else "the area lies outside the city",
        "clear_noted": False,
    }


def _write_events(
    session: Session,
    events: Iterable[BikeEvent],
    ops: Mapping[str, Operator],
    areas: Mapping[str, ParkingArea],
    now: datetime,
    today: date,
) -> Written:
    written = Written()
    for event in events:
        key = f"{RULE}|{event.operator}@{event.area}"
        if event.change is BikeChange.RAISED:
            values = _alert_values(session, event, ops.get(event.operator), areas, now, today)
            new_id = session.execute(
                insert(AlertRow).values(values).returning(AlertRow.id)
            ).scalar_one()
            written.raised.append(int(new_id))
            continue
        values = _fired_again(now, float(event.count))
        if event.change is BikeChange.CLEARED:
            values.update(status=CLEARED, open_key=None, cleared_at=now)
        found = session.execute(
            update(AlertRow).where(AlertRow.open_key == key).values(values).returning(AlertRow.id)
        ).scalar()
        if found is not None and event.change is BikeChange.CLEARED:
            written.cleared.append(int(found))
    return written


def _fired_again(now: datetime, value: float | None) -> dict[str, Any]:
    values: dict[str, Any] = {"last_fired_at": now, "fire_count": AlertRow.fire_count + 1}
    if value is not None:
        values["last_value"] = value
        values["peak_value"] = case(
            (AlertRow.peak_value.is_(None), value),
            (AlertRow.peak_value < value, value),
            else_=AlertRow.peak_value,
        )
    return values


def _city_point(session: Session, today: date) -> tuple[str, float, float] | None:
    """Where a city-wide alert (a fleet) is placed: a point inside the city's area."""
    cities = grid_areas(session, level="city", on=today, limit=1)
    if not cities:
        return None
    point = grid_area(session, cities[0].code, today).geometry.representative_point()
    return cities[0].code, float(point.x), float(point.y)


def _fleet_alert_values(
    session: Session, event: FleetEvent, op: Operator | None, now: datetime, today: date
) -> dict[str, Any]:
    assert event.fleet is not None and event.quota is not None
    place = _city_point(session, today)
    name = op.name if op else event.operator
    description = (
        f"{name}'s feed shows {event.fleet} shared bikes in the city, above its fleet quota of "
        f"{event.quota} ({event.fleet - event.quota} too many)."
    )
    return {
        "rule_code": FLEET_RULE,
        "subject_kind": "bike_operator",
        "subject": event.operator,
        "open_key": f"{FLEET_RULE}|{event.operator}",
        "status": ACTIVE,
        "description": description,
        "started_at": now,
        "raised_at": now,
        "last_fired_at": now,
        "cleared_at": None,
        "fire_count": 1,
        "episodes": 1,
        "first_value": float(event.fleet),
        "last_value": float(event.fleet),
        "peak_value": float(event.fleet),
        "unit": "count",
        "lon": place[1] if place else None,
        "lat": place[2] if place else None,
        "area_code": place[0] if place else None,
        "component_id": None,
        "category_code": CATEGORY,
        "urgency": None,
        "department_code": op.department_code if op else None,
        "case_state": CASE_PENDING if place else "none",
        "case_id": None,
        "case_number": None,
        "case_note": None if place else "no city area to place the case in",
        "clear_noted": False,
    }


def _open_fleet_alerts(session: Session) -> set[str]:
    return set(
        session.scalars(
            select(AlertRow.subject).where(
                AlertRow.rule_code == FLEET_RULE, AlertRow.open_key.is_not(None)
            )
        )
    )


def _write_fleet_events(
    session: Session,
    events: Iterable[FleetEvent],
    ops: Mapping[str, Operator],
    now: datetime,
    today: date,
) -> Written:
    """One open alert per operator over quota: raised once, then updated each round (fire
    count, last and peak fleet), cleared when the fleet is back within the quota."""
    written = Written()
    for event in events:
        if event.change is BikeChange.RAISED:
            values = _fleet_alert_values(session, event, ops.get(event.operator), now, today)
            new_id = session.execute(
                insert(AlertRow).values(values).returning(AlertRow.id)
            ).scalar_one()
            written.raised.append(int(new_id))
            continue
        values = _fired_again(now, None if event.fleet is None else float(event.fleet))
        if event.change is BikeChange.CLEARED:
            values.update(status=CLEARED, open_key=None, cleared_at=now)
        found = session.execute(
            update(AlertRow)
            .where(AlertRow.open_key == f"{FLEET_RULE}|{event.operator}")
            .values(values)
            .returning(AlertRow.id)
        ).scalar()
        if found is not None and event.change is BikeChange.CLEARED:
            written.cleared.append(int(found))
    return written


def _snapshot(
    session: Session, counts: Mapping[str, AreaCount], keep: set[str], now: datetime
) -> None:
    rows = [
        {
            "area_code": area,
            "operator_code": op,
            "taken_at": now,
            "bikes": n,
            "capacity": count.capacity,
        }
        for area, count in counts.items()
        if area in keep or count.total > count.capacity
        for op, n in count.by_operator.items()
    ]
    if rows:
        session.execute(insert(BikeCountRow), rows)


def watch_once(
    db: Database,
    clock: Clock,
    *,
    cell_capacity: int,
    grace_s: float,
    readings: Sequence[FeedReading] | None = None,
    client: httpx.Client | None = None,
    timezone: str | None = None,
) -> WatchReport:
    """Read every operator's feed (or take ``readings``), count, judge and store. A round in
    which any feed failed changes nothing: a missing feed is not an empty one. An alert is
    placed in the areas of the city's today (``timezone``: the city's; default the configured
    one)."""
    now = clock.now()
    today = city_today(clock, timezone or get_settings().timezone)
    report = WatchReport(now)
    with db.reader() as session:
        ops = {op.code: op for op in operators(session)}
        areas = parking_areas(session)
        watches = _load_watches(session)
        fleet_alerts = _open_fleet_alerts(session)
    if readings is None:
        readings = []
        for op in ops.values():
            if not op.feed_url:
                continue
            try:
                readings.append(read_feed(op.code, op.feed_url, client))
            except (OSError, ValueError, httpx.HTTPError) as exc:
                report.failed[op.code] = repr(exc)[:300]
                log.error("sensing.gbfs_failed", operator=op.code, error=repr(exc)[:300])
    if report.failed:
        return report
    groups = [g for r in readings for g in r.groups]
    report.operators = len(readings)
    report.bikes = sum(g.count for g in groups)
    report.problems = {r.operator: r.problems for r in readings if r.problems}
    report.fleets = {r.operator: r.fleet for r in readings}
    counts = count_areas(groups, areas, cell_capacity)
    report.areas = len(counts)
    report.over = sum(1 for c in counts.values() if c.total > c.capacity)
    quotas = {code: op.fleet_quota for code, op in ops.items() if op.fleet_quota}
    following, events = judge(counts, watches, now=now.timestamp(), grace_s=grace_s, quotas=quotas)
    report.events = events
    # Quota 0 is a quota (no bike allowed); the shares above treat it as none.
    fleet_quotas = {code: op.fleet_quota for code, op in ops.items() if op.fleet_quota is not None}
    report.over_quota = list(fleets_over_quota(report.fleets, fleet_quotas))
    report.fleet_events = judge_fleets(report.fleets, fleet_quotas, fleet_alerts)
    by_code = {a.code: a for a in areas}
    with db.unit_of_work() as session:
        _snapshot(session, counts, set(watches) | set(following), now)
        _store_watches(session, following, now)
        report.written = _write_events(session, events, ops, by_code, now, today)
        fleet_written = _write_fleet_events(session, report.fleet_events, ops, now, today)
    report.written.raised += fleet_written.raised
    report.written.cleared += fleet_written.cleared
    for op_code, fleet, quota in report.over_quota:
        log.warning("sensing.fleet_over_quota", operator=op_code, fleet=fleet, quota=quota)
    return report


def run_watch(
    db: Database,
    clock: Clock,
    *,
    cell_capacity: int,
    grace_s: float,
    interval_s: float,
    timeout_s: float,
    after: Any = None,
    rounds: int | None = None,
    timezone: str | None = None,
) -> None:
    """``watch_once`` every ``interval_s`` seconds (``rounds`` times, or until interrupted);
    ``after(report)`` runs after each round (the CLI opens cases there)."""
    done = 0
    with httpx.Client(timeout=timeout_s, follow_redirects=True) as client:
        while rounds is None or done < rounds:
            started = time.monotonic()
            report = watch_once(
                db,
                clock,
                cell_capacity=cell_capacity,
                grace_s=grace_s,
                client=client,
                timezone=timezone,
            )
            if after is not None:
                after(report)
            done += 1
            if rounds is not None and done >= rounds:
                return
            time.sleep(max(0.0, interval_s - (time.monotonic() - started)))


def get_operator(session: Session, code: str) -> Operator:
    for op in operators(session):
        if op.code == code:
            return op
    raise NotFound(f"no bike operator {code!r}")
