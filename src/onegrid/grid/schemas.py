"""API shapes of the grid context. Coordinates are WGS84 longitude/latitude, bboxes are
``[min_lon, min_lat, max_lon, max_lat]``."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from onegrid.grid.domain import Location
from onegrid.grid.queries import AreaView, UnitGridView

MAX_BATCH = 100_000


class AreaOut(BaseModel):
    code: str
    level: str
    parent_code: str | None
    name_zh: str | None
    name_en: str | None
    bbox: tuple[float, float, float, float]
    area_m2: float
    population: int | None
    valid_from: date
    valid_to: date | None

    @classmethod
    def of(cls, view: AreaView) -> AreaOut:
        return cls(
            code=view.code,
            level=view.level,
            parent_code=view.parent_code,
            name_zh=view.name_zh,
            name_en=view.name_en,
            bbox=view.bbox,
            area_m2=view.area_m2,
            population=view.population,
            valid_from=view.valid_from,
            valid_to=view.valid_to,
        )


class AreaDetailOut(AreaOut):
    geometry: dict[str, Any] = Field(description="GeoJSON geometry (WGS84).")


class UnitGridOut(BaseModel):
    code: str = Field(
        description="15 digits: 6 district + 3 subdistrict + 3 community + 3 sequence"
    )
    community_code: str
    bbox: tuple[float, float, float, float]
    area_m2: float
    source: str = Field(description="'official' (imported) or 'h3' (generated)")
    h3_cell: str | None
    land_use: str | None
    management_level: str | None
    valid_from: date
    valid_to: date | None

    @classmethod
    def of(cls, view: UnitGridView) -> UnitGridOut:
        return cls(
            code=view.code,
            community_code=view.community_code,
            bbox=view.bbox,
            area_m2=view.area_m2,
            source=view.source,
            h3_cell=view.h3_cell,
            land_use=view.land_use,
            management_level=view.management_level,
            valid_from=view.valid_from,
            valid_to=view.valid_to,
        )


class UnitGridDetailOut(UnitGridOut):
    geometry: dict[str, Any] = Field(description="GeoJSON geometry (WGS84).")


class LocationOut(BaseModel):
    lon: float
    lat: float
    inside: bool = Field(description="False when the point lies outside every area of the city.")
    message: str | None = None
    unit_grid: str | None = None
    community: str | None = None
    subdistrict: str | None = None
    district: str | None = None
    city: str | None = None
    h3_9: str | None = None
    h3_10: str | None = None
    h3_11: str | None = None

    @classmethod
    def of(cls, lon: float, lat: float, loc: Location | None) -> LocationOut:
        if loc is None:
            return cls(lon=lon, lat=lat, inside=False, message="outside the city")
        return cls(
            lon=lon,
            lat=lat,
            inside=True,
            unit_grid=loc.unit_grid,
            community=loc.community,
            subdistrict=loc.subdistrict,
            district=loc.district,
            city=loc.city,
            h3_9=loc.h3_9,
            h3_10=loc.h3_10,
            h3_11=loc.h3_11,
        )


class LocateBatchIn(BaseModel):
    points: list[tuple[float, float]] = Field(
        max_length=MAX_BATCH, description=f"Up to {MAX_BATCH:,} [lon, lat] pairs in WGS84."
    )
    on: date | None = Field(default=None, description="The day to answer for; default today.")


class LocateBatchOut(BaseModel):
    """Columns aligned with the input points ("" where a point has no such area)."""

    count: int
    inside: list[bool]
    unit_grid: list[str]
    community: list[str]
    subdistrict: list[str]
    district: list[str]
    city: list[str]
    h3_10: list[str]


class FeatureOut(BaseModel):
    type: str = "Feature"
    id: str
    properties: dict[str, Any]
    geometry: dict[str, Any]


class FeatureCollectionOut(BaseModel):
    type: str = "FeatureCollection"
    features: list[FeatureOut]
