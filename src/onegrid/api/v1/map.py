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
from datetime import datetime
from typing import Annotated, Any

import h3
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from onegrid.api.v1.cases import CaseClock, CasePrincipal, CaseSession
from onegrid.cases.domain.lights import Light
from onegrid.cases.queries import light_clause, reach_clause
from onegrid.cases.records import CASES
from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput, NotAuthenticated
from onegrid.db.session import Database
from onegrid.grid.models import UnitGridRow
from onegrid.grid.storage import valid_on_clause
from onegrid.people.domain import Principal
from onegrid.people.policy import reach, require_somewhere
from onegrid.web.settings import web_settings
from onegrid.web.tallies import FineCell, in_box, open_cells

router = APIRouter(prefix="/map", tags=["map"])
C = CASES.c


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


def _open_cells(session: Session, principal: Principal, clock: Clock) -> list[FineCell]:
    r = reach(principal, "case.read")
    if principal.is_anonymous or r.everywhere:
        # Counts only, no case and no person: the public may see where problems are open.
        clause: ColumnElement[bool] | None = None
        key: Any = "all"
    else:
        clause = reach_clause(r, principal)
        key = (
            tuple(sorted(r.area_codes)),
            tuple(sorted(r.department_codes)),
            principal.user_id if r.own else None,
        )
    cells = open_cells(
        session,
        clock.now(),
        reach=clause,
        reach_key=key,
        ttl=web_settings().map_cache_seconds,
    )
    session.commit()
    return cells


def _feature(cell: str, t: _Tally) -> CellFeature:
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    light = Light.RED if t.red else Light.YELLOW if t.yellow else Light.GREEN
    return CellFeature(
        geometry={"type": "Polygon", "coordinates": [ring]},
        properties=CellProperties(
            cell=cell, total=t.total, red=t.red, yellow=t.yellow, light=light
        ),
    )


@router.get(
    "/cells",
    summary="Open cases counted per H3 cell, as GeoJSON hexagons coloured by their worst light",
    response_model=CellCollection,
)
def open_case_cells(
    session: CaseSession,
    principal: CasePrincipal,
    clock: CaseClock,
    resolution: Annotated[int, Query(ge=4, le=10, description="H3 resolution asked for")] = 8,
    bbox: Annotated[str | None, Query(description="west,south,east,north (WGS84)")] = None,
    max_cells: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
) -> CellCollection:
    rows = in_box(_open_cells(session, principal, clock), _box(bbox) if bbox else None)
    res = resolution
    cells = _aggregate(rows, res)
    while len(cells) > max_cells and res > 4:
        res -= 1
        cells = _aggregate(rows, res)
    return CellCollection(
        resolution=res,
        total=sum(t.total for t in cells.values()),
        features=[_feature(c, t) for c, t in sorted(cells.items())],
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
    bbox: Annotated[str, Query(description="west,south,east,north (WGS84)")],
    limit: Annotated[int, Query(ge=1, le=5_000)] = 2_000,
) -> GridCollection:
    w, s, e, n = _box(bbox)
    g = UnitGridRow
    rows = session.execute(
        select(g.code, g.geometry)
        .where(
            valid_on_clause(g.valid_from, g.valid_to, clock.now().date()),
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
    session: CaseSession, principal: CasePrincipal, clock: CaseClock
) -> list[DistrictTally]:
    _staff(principal)
    by_district: dict[str, DistrictTally] = {}
    for c in _open_cells(session, principal, clock):
        if c.district is None:
            continue
        t = by_district.setdefault(c.district, DistrictTally(district=c.district))
        t.open += c.total
        t.red += c.red
        t.yellow += c.yellow
    return [by_district[d] for d in sorted(by_district)]


def _staff(principal: Principal) -> None:
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


@router.get(
    "/feed",
    summary="Server-sent events: each case as it is reported, moves or runs late",
    response_class=StreamingResponse,
)
async def live_feed(request: Request, principal: CasePrincipal, clock: CaseClock) -> Any:
    _staff(principal)
    db: Database = request.app.state.db
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
