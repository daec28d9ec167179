"""API shapes of the grid context. Coordinates are WGS84 longitude/latitude, bboxes are
``[min_lon, min_lat, max_lon, max_lat]``."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from onegrid.core.cursors import ID_MAX
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


# --- The admin's writes: imports with a dry-run plan, names, inspectors' grids, duty rules ---


class ProblemOut(BaseModel):
    field: str
    rule: str
    message: str
    record: str | None = Field(default=None, description="e.g. 'feature 3 (code 110101001)'")
    feature_index: int | None = Field(
        default=None, description="The feature's place in the file, from 1 (for any language)"
    )
    feature_code: str | None = Field(default=None, description="The feature's code, if any")


class PlanItemOut(BaseModel):
    code: str
    change: str = Field(
        description="create (new), version (new shape or parent from valid_from), correct "
        "(same start day: fixed in place), update (names or attributes), unchanged, retire"
    )
    record: str | None = Field(default=None, description="Which feature of the file.")
    feature_index: int | None = Field(
        default=None, description="The feature's place in the file, from 1; none for a retire"
    )
    parent_code: str | None = Field(default=None, description="Parent area or community.")
    name_zh: str | None = None
    name_en: str | None = None


class ImportPlanOut(BaseModel):
    """What the import does (``dry_run``) or did, by code."""

    dry_run: bool
    applied: bool
    source: str
    valid_from: date
    new: list[str]
    changed: list[str] = Field(description="New versions, corrections and renames.")
    unchanged: list[str]
    retired: list[str]
    items: list[PlanItemOut]
    rejected: list[ProblemOut] = Field(description="Features skipped (on_error=skip).")
    repaired: list[ProblemOut]
    summary: str | None = Field(default=None, description="What was written, in words.")
    advice: str | None = Field(default=None, description="What to do next, if anything.")
    map: FeatureCollectionOut = Field(
        description="The planned shapes (WGS84), properties code and change, for a map."
    )


class AreaNamesIn(BaseModel):
    """Names to correct; a field left out is kept, name_en may be set to null."""

    name_zh: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)


class AssignmentOut(BaseModel):
    id: int
    user_id: int
    username: str | None = None
    unit_grid_code: str
    valid_from: date
    valid_to: date | None


class AssignIn(BaseModel):
    user_id: int = Field(gt=0, le=ID_MAX)
    unit_grid_codes: list[str] = Field(min_length=1, max_length=5000)
    valid_from: date | None = Field(default=None, description="Default: the city's today.")


class AssignOut(BaseModel):
    added: int = Field(description="Grids newly assigned (already assigned ones are kept).")
    assignments: list[AssignmentOut]


class AssignmentEndIn(BaseModel):
    user_id: int = Field(gt=0, le=ID_MAX)
    unit_grid_code: str = Field(min_length=1, max_length=15)
    valid_to: date | None = Field(default=None, description="First day not patrolled; today.")


class DutyRuleOut(BaseModel):
    id: int
    area_code: str
    category_prefix: str = Field(description="'*' for any category, else e.g. E01, C0101")
    department_code: str
    kind: str = Field(description="owner (the dispatch catalogue) or territorial (属地)")
    valid_from: date
    valid_to: date | None


class DutyRuleIn(BaseModel):
    area_code: str = Field(min_length=1, max_length=32)
    category_prefix: str = Field(min_length=1, max_length=16)
    department_code: str = Field(min_length=1, max_length=64)
    kind: str = Field(default="owner", description="owner or territorial")
    valid_from: date | None = Field(default=None, description="Default: the city's today.")


class DutyRuleEndIn(BaseModel):
    valid_to: date | None = Field(default=None, description="First day the rule no longer holds.")
