"""The city grid over HTTP: areas, unit grids and point location (read-only; writes are CLI)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import numpy as np
import shapely
from fastapi import APIRouter, Path, Query

from onegrid.api.deps import AppClock, AppSettings, DbSession
from onegrid.core.clock import city_today
from onegrid.grid import queries
from onegrid.grid.domain import AREA_LEVELS, Level
from onegrid.grid.schemas import (
    AreaDetailOut,
    AreaOut,
    FeatureCollectionOut,
    LocateBatchIn,
    LocateBatchOut,
    LocationOut,
    UnitGridDetailOut,
    UnitGridOut,
)

router = APIRouter(tags=["grid"])

On = Annotated[
    date | None,
    Query(description="Answer for this day (YYYY-MM-DD); default: the city's today."),
]
AreaLevel = Annotated[
    Level | None,
    Query(description=f"One of {', '.join(AREA_LEVELS)}."),
]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Offset = Annotated[int, Query(ge=0)]


def _day(on: date | None, clock: AppClock, settings: AppSettings) -> date:
    return on or city_today(clock, settings.timezone)


@router.get(
    "/areas", summary="Areas of the city, without their shapes", response_model=list[AreaOut]
)
def list_areas(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    level: AreaLevel = None,
    parent: Annotated[str | None, Query(description="Only children of this area code.")] = None,
    on: On = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> list[AreaOut]:
    views = queries.list_areas(
        db, level=level, parent=parent, on=_day(on, clock, settings), limit=limit, offset=offset
    )
    return [AreaOut.of(v) for v in views]


@router.get(
    "/areas.geojson",
    summary="Areas as a GeoJSON FeatureCollection for maps",
    response_model=FeatureCollectionOut,
)
def areas_geojson(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    level: AreaLevel = None,
    on: On = None,
    tolerance: Annotated[
        float, Query(ge=0, le=10_000, description="Simplify shapes to this many metres.")
    ] = 0,
) -> FeatureCollectionOut:
    doc = queries.areas_feature_collection(
        db, level=level, on=_day(on, clock, settings), tolerance_m=tolerance
    )
    return FeatureCollectionOut.model_validate(doc)


@router.get(
    "/areas/{code}", summary="One area with its GeoJSON shape", response_model=AreaDetailOut
)
def get_area(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    code: Annotated[str, Path(max_length=32)],
    on: On = None,
) -> AreaDetailOut:
    view = queries.get_area(db, code, _day(on, clock, settings))
    return AreaDetailOut(
        **AreaOut.of(view).model_dump(), geometry=shapely.geometry.mapping(view.geometry)
    )


@router.get(
    "/areas/{code}/children",
    summary="The areas directly inside an area",
    response_model=list[AreaOut],
)
def area_children(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    code: Annotated[str, Path(max_length=32)],
    on: On = None,
) -> list[AreaOut]:
    return [AreaOut.of(v) for v in queries.child_areas(db, code, _day(on, clock, settings))]


@router.get("/unit-grids", summary="Unit grids, without shapes", response_model=list[UnitGridOut])
def list_unit_grids(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    community: Annotated[str | None, Query(description="Only grids of this community.")] = None,
    on: On = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> list[UnitGridOut]:
    views = queries.list_unit_grids(
        db, community=community, on=_day(on, clock, settings), limit=limit, offset=offset
    )
    return [UnitGridOut.of(v) for v in views]


@router.get(
    "/unit-grids/{code}",
    summary="One unit grid with its GeoJSON shape",
    response_model=UnitGridDetailOut,
)
def get_unit_grid(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    code: Annotated[str, Path(max_length=15)],
    on: On = None,
) -> UnitGridDetailOut:
    view = queries.get_unit_grid(db, code, _day(on, clock, settings))
    return UnitGridDetailOut(
        **UnitGridOut.of(view).model_dump(), geometry=shapely.geometry.mapping(view.geometry)
    )


@router.get(
    "/locate",
    summary="Where a point lies: unit grid, community, subdistrict, district, H3 cells",
    response_model=LocationOut,
    description="A point outside the city is an answer, not an error: 200 with inside=false.",
)
def locate(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    lon: Annotated[float, Query(ge=-180, le=180, description="WGS84 longitude")],
    lat: Annotated[float, Query(ge=-90, le=90, description="WGS84 latitude")],
    on: On = None,
) -> LocationOut:
    return LocationOut.of(lon, lat, queries.locate(db, lon, lat, _day(on, clock, settings)))


def _hex(cells: np.ndarray) -> list[str]:
    return [format(int(c), "x") if c else "" for c in cells]


@router.post(
    "/locate/batch",
    summary="Locate up to 100,000 points at once",
    response_model=LocateBatchOut,
)
def locate_batch(
    db: DbSession, clock: AppClock, settings: AppSettings, body: LocateBatchIn
) -> LocateBatchOut:
    points = np.asarray(body.points, dtype=np.float64).reshape(-1, 2)
    batch = queries.locate_many(db, points[:, 0], points[:, 1], _day(body.on, clock, settings))
    return LocateBatchOut(
        count=len(points),
        inside=[bool(v) for v in batch.inside],
        unit_grid=[str(v) for v in batch.unit_grid],
        community=[str(v) for v in batch.community],
        subdistrict=[str(v) for v in batch.subdistrict],
        district=[str(v) for v in batch.district],
        city=[str(v) for v in batch.city],
        h3_10=_hex(batch.h3_10),
    )
