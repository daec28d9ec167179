"""The command centre's map data: open cases as aggregated H3 cells, district tallies, and a
live feed of changed cases as server-sent events.

Cells, not points: 50,000 open cases become at most ``max_cells`` hexagons whatever the zoom, so
one response stays small (the coarser resolution is chosen when the finer one has too many).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import h3
import shapely
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from onegrid.analytics.hotspots import MIN_COUNT, hotspots
from onegrid.analytics.lake import Lake
from onegrid.analytics.period import Period
from onegrid.api.auth import requires
from onegrid.api.deps import AppSettings
from onegrid.api.v1.analytics import MinCount
from onegrid.api.v1.cases import Caller, CaseCaller, CaseClock, CaseSession, CaseSettings
from onegrid.cases.domain.lights import Light
from onegrid.cases.queries import light_clause, reach_clause
from onegrid.cases.records import CASES
from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import InvalidInput, NotAuthenticated
from onegrid.db.session import Database
from onegrid.grid.models import UnitGridRow
from onegrid.grid.storage import valid_on_clause
from onegrid.people.domain import ANONYMOUS, Principal
from onegrid.people.policy import reach, require_somewhere
from onegrid.web.settings import web_settings
from onegrid.web.tallies import OPEN, FineCell, in_box, open_cells, reported_cells

router = APIRouter(prefix="/map", tags=["map"])
AnalyticsReader = Annotated[Principal, requires("analytics.read")]
C = CASES.c
_RINGS_KEPT = 20_000  # hexagon outlines as JSON, ~0.4 kB each


@dataclass
class _Tally:
    total: int = 0
    red: int = 0
    yellow: int = 0
    children: set[str] = field(default_factory=set)


class CellProperties(BaseModel):
    cell: str
    total: int
    red: int
    yellow: int
    light: Light = Field(description="The worst light of the cases in the cell")


class CellFeature(BaseModel):
    type: str = "Feature"
    geometry: dict[str, Any]
    properties: CellProperties


class CellCollection(BaseModel):
    type: str = "FeatureCollection"
    resolution: int = Field(description="The H3 resolution served (may be coarser than asked)")
    total: int = Field(description="Open cases counted")
    features: list[CellFeature]


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput.one("bbox", "four_numbers", "bbox is west,south,east,north") from None
    if not (w < e and s < n):
        raise InvalidInput.one("bbox", "ordered", "bbox needs west < east and south < north")
    return w, s, e, n


def _aggregate(cells: Iterable[FineCell], res: int) -> dict[str, _Tally]:
    out: dict[str, _Tally] = {}
    for c in cells:
        parent = h3.cell_to_parent(c.cell, res) if res < 10 else c.cell
        t = out.setdefault(parent, _Tally())
        t.total += c.total
        t.red += c.red
        t.yellow += c.yellow
    return out


def _counting_reach(principal: Principal) -> tuple[ColumnElement[bool] | None, Any]:
    """What the caller may count, and a key naming it for the cache."""
    r = reach(principal, "case.read")
    if principal.is_anonymous or r.everywhere:
        # Counts only, no case and no person: the public may see where problems are open.
        return None, "all"
    key = (
        tuple(sorted(r.area_codes)),
        tuple(sorted(r.department_codes)),
        principal.user_id if r.own else None,
    )
    return reach_clause(r, principal), key


def _open_cells(session: Session, principal: Principal, clock: Clock) -> list[FineCell]:
    clause, key = _counting_reach(principal)
    cells = open_cells(
        session,
        clock.now(),
        reach=clause,
        reach_key=key,
        ttl=web_settings().map_cache_seconds,
    )
    session.commit()
    return cells


@lru_cache(maxsize=_RINGS_KEPT)
def _hexagon(cell: str) -> str:
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def _feature(cell: str, t: _Tally) -> str:
    light = Light.RED if t.red else Light.YELLOW if t.yellow else Light.GREEN
    props = {"cell": cell, "total": t.total, "red": t.red, "yellow": t.yellow, "light": light.value}
    return f'{{"type":"Feature","geometry":{_hexagon(cell)},"properties":{json.dumps(props)}}}'


@router.get(
    "/cells",
    summary="Open cases counted per H3 cell, as GeoJSON hexagons coloured by their worst light",
    response_model=CellCollection,
)
def open_case_cells(
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    resolution: Annotated[int, Query(ge=4, le=10, description="H3 resolution asked for")] = 8,
    bbox: Annotated[str | None, Query(description="west,south,east,north (WGS84)")] = None,
    max_cells: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
    public: Annotated[
        bool,
        Query(description="Every open case, as a visitor who is not signed in counts them"),
    ] = False,
) -> Response:
    # The public map shows a signed-in citizen the whole city, not their own reports alone.
    principal = ANONYMOUS if public else caller.principal(session)
    rows = in_box(_open_cells(session, principal, clock), _box(bbox) if bbox else None)
    res, cells = _coarsen(rows, resolution, max_cells)
    # Written as text, each hexagon's ring kept as JSON, and not validated again (the shapes
    # are CellCollection's): as models, a few thousand cells left tens of thousands of small
    # objects to the garbage collector, and its full passes over the app's heap (~0.2 s at
    # 1 M cases) were the slow tail of this call (docs/performance.md). Strings it never scans.
    features = ",".join(_feature(c, t) for c, t in sorted(cells.items()))
    total = sum(t.total for t in cells.values())
    body = (
        f'{{"type":"FeatureCollection","resolution":{res},"total":{total},"features":[{features}]}}'
    )
    return Response(body, media_type="application/json")


def _coarsen(
    rows: list[FineCell], resolution: int, max_cells: int
) -> tuple[int, dict[str, _Tally]]:
    res = resolution
    cells = _aggregate(rows, res)
    while len(cells) > max_cells and res > 4:
        res -= 1
        cells = _aggregate(rows, res)
    return res, cells


class HeatProperties(BaseModel):
    cell: str
    count: int


class HeatFeature(BaseModel):
    type: str = "Feature"
    geometry: dict[str, Any] = Field(description="The cell's centre, a Point")
    properties: HeatProperties


class HeatCollection(BaseModel):
    type: str = "FeatureCollection"
    resolution: int
    days: int
    total: int = Field(description="Cases reported in the period, counted")
    features: list[HeatFeature]


@router.get(
    "/heat",
    summary="Cases reported in the last `days` days, counted per H3 cell, as weighted points "
    "for a heat layer",
    response_model=HeatCollection,
)
def reported_heat(
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    days: Annotated[int, Query(ge=1, le=366, description="The period: the last N days")] = 30,
    resolution: Annotated[int, Query(ge=4, le=10)] = 8,
    bbox: Annotated[str | None, Query(description="west,south,east,north (WGS84)")] = None,
    max_cells: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
) -> HeatCollection:
    principal = caller.principal(session)
    clause, key = _counting_reach(principal)
    fine = reported_cells(
        session,
        clock.now(),
        days,
        reach=clause,
        reach_key=key,
        ttl=web_settings().map_cache_seconds,
    )
    session.commit()
    res, cells = _coarsen(in_box(fine, _box(bbox) if bbox else None), resolution, max_cells)
    features = []
    for c, t in sorted(cells.items()):
        lat, lng = h3.cell_to_latlng(c)
        features.append(
            HeatFeature(
                geometry={"type": "Point", "coordinates": [lng, lat]},
                properties=HeatProperties(cell=c, count=t.total),
            )
        )
    return HeatCollection(
        resolution=res, days=days, total=sum(t.total for t in cells.values()), features=features
    )


class HotspotProperties(BaseModel):
    cell: str
    count: int
    z: float
    q: float = Field(description="The Benjamini-Hochberg adjusted p-value")


class HotspotFeature(BaseModel):
    type: str = "Feature"
    geometry: dict[str, Any]
    properties: HotspotProperties


class HotspotCollection(BaseModel):
    type: str = "FeatureCollection"
    category: str
    first: date
    last: date
    features: list[HotspotFeature]


@router.get(
    "/hotspots",
    summary="The analytics lake's significant hot cells (Gi*, BH-corrected) of one category "
    "over the last `days` days, as GeoJSON hexagons",
    response_model=HotspotCollection,
)
def hotspot_cells(
    principal: AnalyticsReader,
    settings: AppSettings,
    clock: CaseClock,
    category: Annotated[str, Query(min_length=1, max_length=16)],
    days: Annotated[int, Query(ge=7, le=366)] = 90,
    min_count: MinCount = MIN_COUNT,
) -> HotspotCollection:
    tz = ZoneInfo(settings.timezone)
    last = clock.now().astimezone(tz).date()
    period = Period(last - timedelta(days=days - 1), last, settings.timezone)
    found = hotspots(
        Lake.under(settings.data_dir).connect(),
        category.strip().upper(),
        period,
        min_count=min_count,
    )
    features = []
    for spot in found:
        ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(spot.cell)]
        ring.append(ring[0])
        features.append(
            HotspotFeature(
                geometry={"type": "Polygon", "coordinates": [ring]},
                properties=HotspotProperties(cell=spot.cell, count=spot.count, z=spot.z, q=spot.q),
            )
        )
    return HotspotCollection(
        category=category.strip().upper(), first=period.first, last=period.last, features=features
    )


# --- drilling down: from a cell to its cases --------------------------------------------------


class CaseBrief(BaseModel):
    id: int
    number: str
    status: str
    category_code: str
    light: Light
    deadline: datetime | None
    district: str | None
    unit_grid: str | None
    lon: float
    lat: float
    created_at: datetime


class CellCases(BaseModel):
    cell: str
    resolution: int
    total: int = Field(description="Open cases in the cell the caller may read")
    items: list[CaseBrief] = Field(description="The first `limit`, latest deadline last")


def _fine_range(cell: str) -> tuple[str, str]:
    """The first and last res-10 descendants of ``cell``: H3 numbers a cell's descendants at one
    resolution consecutively (the digits below its own vary, the ones above are fixed), so
    ``h3_10 BETWEEN first AND last`` finds them through the h3_10 index."""
    x = h3.str_to_int(cell)
    r = h3.get_resolution(cell)
    x = (x & ~(0xF << 52)) | (10 << 52)
    first = last = x
    for k in range(r + 1, 11):
        shift = 3 * (15 - k)
        first &= ~(7 << shift)
        last = (last & ~(7 << shift)) | (6 << shift)
    return h3.int_to_str(first), h3.int_to_str(last)


def light_of_row(now: datetime) -> ColumnElement[str]:
    """Each row's light from its own columns, the instants ``light_clause`` compares: a held
    step keeps its light, a passed deadline is red, a passed warning yellow. ``light_clause``
    is shaped to *find* cases of a light through the deadline index; asked of a few rows
    already found, it would first collect every on-time open case in the city."""
    return case(
        (C.step_frozen_light.is_not(None), C.step_frozen_light),
        (and_(C.step_deadline.is_not(None), C.step_deadline < now), Light.RED.value),
        (and_(C.step_warn_at.is_not(None), C.step_warn_at < now), Light.YELLOW.value),
        else_=Light.GREEN.value,
    )


def brief_columns(now: datetime) -> list[Any]:
    return [
        C.id,
        C.number,
        C.status,
        C.category_code,
        light_of_row(now),
        C.step_deadline,
        C.district_code,
        C.unit_grid_code,
        C.lon,
        C.lat,
        C.created_at,
    ]


def _brief(row: Any) -> CaseBrief:
    keys = (
        "id",
        "number",
        "status",
        "category_code",
        "light",
        "deadline",
        "district",
        "unit_grid",
        "lon",
        "lat",
        "created_at",
    )
    return CaseBrief.model_validate(dict(zip(keys, row, strict=True)))


@router.get(
    "/cells/{cell}/cases",
    summary="The open cases in one H3 cell (any resolution 4–10) the caller may read, "
    "most urgent first: the command centre's drill-down",
    response_model=CellCases,
)
def cases_in_cell(
    cell: str,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CellCases:
    principal = caller.principal(session)
    require_staff(principal)
    if not h3.is_valid_cell(cell) or not 4 <= h3.get_resolution(cell) <= 10:
        raise InvalidInput.one("cell", "h3_cell", "cell is an H3 cell of resolution 4 to 10")
    first, last = _fine_range(cell)
    where = [
        C.status.in_(OPEN),
        C.h3_10.between(first, last),
        reach_clause(reach(principal, "case.read"), principal),
    ]
    total = session.scalar(select(func.count()).select_from(CASES).where(*where)) or 0
    rows = session.execute(
        select(*brief_columns(clock.now()))
        .where(*where)
        .order_by(C.step_deadline.is_(None), C.step_deadline, C.id)
        .limit(limit)
    ).all()
    session.commit()
    return CellCases(
        cell=cell, resolution=h3.get_resolution(cell), total=total, items=[_brief(r) for r in rows]
    )


class GridCollection(BaseModel):
    type: str = "FeatureCollection"
    truncated: bool = Field(description="More grids lie in the box: zoom in")
    features: list[dict[str, Any]]


@router.get(
    "/unit-grids",
    summary="Unit grids in a box, as GeoJSON (for a zoomed-in map; at most `limit`)",
    response_model=GridCollection,
)
def unit_grids_in_box(
    session: CaseSession,
    clock: CaseClock,
    settings: CaseSettings,
    bbox: Annotated[str, Query(description="west,south,east,north (WGS84)")],
    limit: Annotated[int, Query(ge=1, le=5_000)] = 2_000,
) -> GridCollection:
    w, s, e, n = _box(bbox)
    g = UnitGridRow
    rows = session.execute(
        select(g.code, g.geometry)
        .where(
            valid_on_clause(g.valid_from, g.valid_to, city_today(clock, settings.timezone)),
            g.max_lon >= w,
            g.min_lon <= e,
            g.max_lat >= s,
            g.min_lat <= n,
        )
        .limit(limit + 1)
    ).all()
    session.commit()
    features = [
        {
            "type": "Feature",
            "properties": {"code": code},
            "geometry": shapely.geometry.mapping(shapely.from_wkb(wkb)),
        }
        for code, wkb in rows[:limit]
    ]
    return GridCollection(truncated=len(rows) > limit, features=features)


class DistrictTally(BaseModel):
    district: str
    open: int = 0
    red: int = 0
    yellow: int = 0


@router.get(
    "/districts",
    summary="Open cases per district with how many are red and yellow (the command centre's table)",
    response_model=list[DistrictTally],
)
def district_tallies(
    session: CaseSession, caller: CaseCaller, clock: CaseClock
) -> list[DistrictTally]:
    principal = caller.principal(session)
    require_staff(principal)
    by_district: dict[str, DistrictTally] = {}
    for c in _open_cells(session, principal, clock):
        if c.district is None:
            continue
        t = by_district.setdefault(c.district, DistrictTally(district=c.district))
        t.open += c.total
        t.red += c.red
        t.yellow += c.yellow
    return [by_district[d] for d in sorted(by_district)]


def require_staff(principal: Principal) -> None:
    if principal.is_anonymous:
        raise NotAuthenticated("sign in to see the command centre")
    require_somewhere(principal, "case.read")


def _changed_since(
    db: Database, principal: Principal, clock: Clock, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    now = clock.now()
    red, yellow = light_clause(Light.RED, now), light_clause(Light.YELLOW, now)
    stmt = (
        select(
            C.id,
            C.number,
            C.status,
            C.category_code,
            C.district_code,
            C.lon,
            C.lat,
            C.updated_at,
            C.overdue_steps,
            case((red, "red"), (yellow, "yellow"), else_="green"),
        )
        .where(reach_clause(reach(principal, "case.read"), principal))
        .order_by(C.updated_at.desc(), C.id.desc())
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(C.updated_at > since)
    with db.unit_of_work() as session:
        rows = session.execute(stmt).all()
    keys = ("id", "number", "status", "category_code", "district", "lon", "lat", "updated_at")
    out = []
    for r in reversed(rows):
        item = dict(zip(keys, r[:8], strict=True))
        item["updated_at"] = r[7].isoformat()
        item["overdue"] = bool(r[8])
        item["light"] = r[9]
        out.append(item)
    return out


def _event(item: dict[str, Any]) -> str:
    return (
        f"id: {item['updated_at']}\nevent: case\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"
    )


def _feed_principal(db: Database, caller: Caller) -> Principal:
    """The stream's caller, checked once in a short transaction of its own: the stream holds no
    pooled connection while it waits between reads."""
    with db.unit_of_work() as session:
        return caller.principal(session)


@router.get(
    "/feed",
    summary="Server-sent events: each case as it is reported, moves or runs late",
    response_class=StreamingResponse,
)
async def live_feed(request: Request, caller: CaseCaller, clock: CaseClock) -> Any:
    db: Database = request.app.state.db
    principal = await run_in_threadpool(_feed_principal, db, caller)
    require_staff(principal)
    interval = web_settings().feed_interval_seconds

    async def events() -> AsyncIterator[str]:
        first = await run_in_threadpool(_changed_since, db, principal, clock, None, 20)
        since = datetime.fromisoformat(first[-1]["updated_at"]) if first else None
        yield "retry: 3000\n\n"
        for item in first:
            yield _event(item)
        quiet = 0.0
        while not await request.is_disconnected():
            await asyncio.sleep(interval)
            items = await run_in_threadpool(_changed_since, db, principal, clock, since, 200)
            for item in items:
                yield _event(item)
            if items:
                since = datetime.fromisoformat(items[-1]["updated_at"])
                quiet = 0.0
            else:
                quiet += interval
                if quiet >= 15:  # a comment keeps proxies from closing an idle stream
                    quiet = 0.0
                    yield ": keep-alive\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
