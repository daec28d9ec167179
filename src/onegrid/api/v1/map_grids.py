"""An inspector's own grids on the map: their shapes, served once and revalidated by ETag, and
the live open-case tallies per grid with the most urgent open cases as points.

The shapes change only when the grid or the inspector's assignment does, so they carry an ETag
from the grid change token, the day and the assigned codes, and the browser asks again with
``If-None-Match`` (a 304 costs two small queries). The tallies and points are read through the
covering index ``ix_cases_open_grids`` (cases_0003): only the open cases of the grids are
touched, never their table rows nor the grids' closed cases.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func, select, true
from sqlalchemy.orm import Session

from onegrid.api.v1.cases import CaseCaller, CaseClock, CaseSession, CaseSettings
from onegrid.api.v1.map import brief_columns, light_of_row, require_staff
from onegrid.cases.domain.lights import Light
from onegrid.cases.queries import reach_clause
from onegrid.cases.records import CASES
from onegrid.core.clock import city_today
from onegrid.grid.models import InspectorGridRow, UnitGridRow
from onegrid.grid.storage import current_token, valid_on_clause
from onegrid.people.domain import Principal
from onegrid.people.policy import reach
from onegrid.web.settings import web_settings
from onegrid.web.tallies import OPEN, cases_version

router = APIRouter(prefix="/map", tags=["map"])
C = CASES.c
_SHAPES_KEPT = 32
_ANSWERS_KEPT = 256


class GridTally(BaseModel):
    code: str
    open: int = 0
    red: int = 0
    yellow: int = 0


class MyGrids(BaseModel):
    grids: list[GridTally] = Field(
        description="The caller's unit grids today, each with its open, red and yellow counts; "
        "their shapes are at /api/v1/map/my-grids/shapes"
    )
    cases: dict[str, Any] = Field(
        description="The most urgent open cases in those grids the caller may read, as GeoJSON "
        "points (at most `limit`)"
    )
    truncated: bool = Field(description="More open cases lie in the grids than `limit`")


def _assigned(session: Session, principal: Principal, today: date) -> list[str]:
    g = InspectorGridRow
    return list(
        session.scalars(
            select(g.unit_grid_code)
            .where(
                g.user_id == (principal.user_id or -1),
                valid_on_clause(g.valid_from, g.valid_to, today),
            )
            .distinct()
            .order_by(g.unit_grid_code)
        )
    )


def _tallies(session: Session, codes: Sequence[str], now: datetime) -> dict[str, GridTally]:
    light = light_of_row(now)
    red = func.sum(case((light == Light.RED.value, 1), else_=0))
    yellow = func.sum(case((light == Light.YELLOW.value, 1), else_=0))
    stmt = (
        select(C.unit_grid_code, func.count(), red, yellow)
        .where(C.unit_grid_code.in_(codes), C.status.in_(OPEN))
        .group_by(C.unit_grid_code)
    )
    return {
        code: GridTally(code=code, open=int(n), red=int(r or 0), yellow=int(y or 0))
        for code, n, r, y in session.execute(stmt)
    }


def _urgent(
    session: Session,
    codes: Sequence[str],
    now: datetime,
    readable: ColumnElement[bool],
    limit: int,
) -> tuple[list[Any], bool]:
    """The first ``limit`` open cases by deadline that ``readable`` lets through, and whether
    more lie beyond. Ids come in deadline order from the index; only those rows are read."""
    pick = (
        select(C.id)
        .where(C.unit_grid_code.in_(codes), C.status.in_(OPEN))
        .order_by(C.step_deadline.is_(None), C.step_deadline, C.id)
    )
    found: list[Any] = []
    offset, chunk = 0, limit + 1
    while len(found) <= limit:
        ids = list(session.scalars(pick.offset(offset).limit(chunk)))
        if not ids:
            break
        rows = session.execute(select(*brief_columns(now)).where(C.id.in_(ids), readable)).all()
        order = {i: n for n, i in enumerate(ids)}
        found += sorted(rows, key=lambda r: order[r[0]])
        offset += chunk
    return found[:limit], len(found) > limit


def _point(row: Any) -> dict[str, Any]:
    (id_, number, status, category, light, deadline, district, grid, lon, lat, created) = row
    return {
        "type": "Feature",
        "properties": {
            "id": id_,
            "number": number,
            "status": status,
            "category_code": category,
            "light": light,
            "deadline": deadline.isoformat() if deadline else None,
            "district": district,
            "unit_grid": grid,
            "created_at": created.isoformat(),
        },
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


class _Answers:
    """Recent my-grids answers, reused while no case has been written and the clock stays in
    the same ``ttl`` slice (lights turn with time alone), like the map's cell counts (ADR 0008).
    Each inspector opens the page again and again; the grids' open cases change far less."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: OrderedDict[Any, tuple[Any, str]] = OrderedDict()

    def get(self, key: Any, version: Any) -> str | None:
        with self._lock:
            hit = self._bodies.get(key)
            if hit is None or hit[0] != version:
                return None
            self._bodies.move_to_end(key)
            return hit[1]

    def put(self, key: Any, version: Any, body: str) -> None:
        with self._lock:
            self._bodies[key] = (version, body)
            self._bodies.move_to_end(key)
            while len(self._bodies) > _ANSWERS_KEPT:
                self._bodies.popitem(last=False)


_answers = _Answers()


def _answer(
    session: Session, principal: Principal, codes: Sequence[str], now: datetime, limit: int
) -> str:
    # Counts of open cases are what the public map shows anyone, so the tallies need no reach;
    # the cases themselves are listed only where the caller may read them.
    tallies = _tallies(session, codes, now) if codes else {}
    r = reach(principal, "case.read")
    readable = true() if r.everywhere else reach_clause(r, principal)
    rows, more = _urgent(session, codes, now, readable, limit) if codes else ([], False)
    body = {
        "grids": [tallies.get(c, GridTally(code=c)).model_dump() for c in codes],
        "cases": {"type": "FeatureCollection", "features": [_point(r) for r in rows]},
        "truncated": more,
    }
    return json.dumps(body, ensure_ascii=False)


@router.get(
    "/my-grids",
    summary="The unit grids the caller patrols today with their open-case tallies, and the "
    "most urgent open cases in them",
    response_model=MyGrids,
)
def my_grids(
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    settings: CaseSettings,
    limit: Annotated[int, Query(ge=1, le=2_000)] = 500,
) -> Response:
    principal = caller.principal(session)
    require_staff(principal)
    now = clock.now()
    codes = _assigned(session, principal, city_today(clock, settings.timezone))
    ttl = web_settings().map_cache_seconds
    slice_ = int(now.timestamp() // ttl) if ttl else now
    r = reach(principal, "case.read")
    who = (r.everywhere, sorted(r.area_codes), sorted(r.department_codes), r.own)
    key = (id(session.get_bind()), principal.user_id, repr(who), tuple(codes), limit, slice_)
    version = cases_version(session)
    body = _answers.get(key, version)
    if body is None:
        body = _answer(session, principal, codes, now, limit)
        _answers.put(key, version, body)
    session.commit()
    # Built by hand and not validated again: the shapes above are the response model's.
    return Response(body, media_type="application/json")


class _Shapes:
    """Recently served shape collections by ETag: every inspector's page asks on each visit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bodies: OrderedDict[tuple[int, str], bytes] = OrderedDict()

    def get(self, key: tuple[int, str]) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: tuple[int, str], body: bytes) -> None:
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > _SHAPES_KEPT:
                self._bodies.popitem(last=False)


_shapes = _Shapes()


def _shapes_body(session: Session, codes: Sequence[str], today: date) -> bytes:
    g = UnitGridRow
    rows = session.execute(
        select(g.code, g.geometry)
        .where(g.code.in_(codes), valid_on_clause(g.valid_from, g.valid_to, today))
        .order_by(g.code)
    ).all()
    # WKB to GeoJSON text in one vectorised call, spliced in as it is: a few hundred polygons
    # cost more as Python dicts than as text.
    geometries = shapely.to_geojson(shapely.from_wkb([wkb for _, wkb in rows])).tolist()
    features = ",".join(
        '{"type":"Feature","properties":'
        + json.dumps({"code": code})
        + ',"geometry":'
        + geometry
        + "}"
        for (code, _), geometry in zip(rows, geometries, strict=True)
    )
    return ('{"type":"FeatureCollection","features":[' + features + "]}").encode()


@router.get(
    "/my-grids/shapes",
    summary="The shapes of the unit grids the caller patrols today, as GeoJSON; revalidate "
    "with If-None-Match (the ETag changes when the grid or the assignment does)",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, 304: {"description": "Unchanged"}},
)
def my_grid_shapes(
    request: Request,
    session: CaseSession,
    caller: CaseCaller,
    clock: CaseClock,
    settings: CaseSettings,
) -> Response:
    principal = caller.principal(session)
    require_staff(principal)
    today = city_today(clock, settings.timezone)
    codes = _assigned(session, principal, today)
    token = current_token(session)
    tag = hashlib.sha256(f"{token}|{today}|{','.join(codes)}".encode()).hexdigest()[:32]
    etag = f'"{tag}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        session.commit()
        return Response(status_code=304, headers=headers)
    key = (id(session.get_bind()), tag)
    body = _shapes.get(key)
    if body is None:
        body = _shapes_body(session, codes, today)
        _shapes.put(key, body)
    session.commit()
    return Response(body, media_type="application/geo+json", headers=headers)
