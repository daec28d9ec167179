"""Shapes of the assets API: categories, components, pages, GeoJSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from onegrid.assets.domain import (
    DATA_SOURCE_MAX,
    DEPARTMENT_CODE_MAX,
    NAME_MAX,
    Category,
    Component,
    ComponentChange,
    ComponentDraft,
    ComponentState,
    Kind,
    Urgency,
)


class Keywords(BaseModel):
    zh: list[str]
    en: list[str]


class CategoryOut(BaseModel):
    code: str = Field(examples=["C0101"])
    kind: Kind
    major: str = Field(examples=["01"])
    minor: str = Field(examples=["01"])
    name_zh: str = Field(examples=["上水井盖"])
    name_en: str = Field(examples=["Water-supply manhole cover"])
    major_name_zh: str
    major_name_en: str
    keywords: Keywords
    urgency: Urgency
    emergency: bool
    active: bool = Field(
        description="False: deactivated, kept for the cases and components filed under it"
    )

    @classmethod
    def of(cls, c: Category) -> CategoryOut:
        return cls(
            code=c.code,
            kind=c.kind,
            major=c.major,
            minor=c.minor,
            name_zh=c.name_zh,
            name_en=c.name_en,
            major_name_zh=c.major_name_zh,
            major_name_en=c.major_name_en,
            keywords=Keywords(zh=list(c.keywords_zh), en=list(c.keywords_en)),
            urgency=c.urgency,
            emergency=c.emergency,
            active=c.active,
        )


class TaxonomyVersionOut(BaseModel):
    id: int
    name: str
    label: str
    note: str
    category_count: int
    active: bool
    loaded_at: datetime


class ComponentOut(BaseModel):
    id: str = Field(examples=["3205080101000001"])
    name: str
    class_code: str = Field(examples=["C0101"])
    admin_code: str
    competent_department: str | None
    owner: str
    maintainer: str | None
    unit_grid: str | None
    community: str | None
    subdistrict: str | None
    district: str | None
    lon: float
    lat: float
    h3_10: str | None
    state: ComponentState
    first_recorded: date
    last_changed: datetime
    data_source: str | None
    note: str | None

    @classmethod
    def of(cls, c: Component) -> ComponentOut:
        return cls.model_validate(c, from_attributes=True)


class ComponentPageOut(BaseModel):
    items: list[ComponentOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class NearbyComponentOut(BaseModel):
    distance_m: float
    component: ComponentOut


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class ComponentFeature(BaseModel):
    """A component as a GeoJSON Feature (RFC 7946, WGS84)."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: dict[str, Any]

    @classmethod
    def of(cls, c: Component) -> ComponentFeature:
        props = ComponentOut.of(c).model_dump(mode="json")
        for key in ("id", "lon", "lat"):
            props.pop(key)
        return cls(id=c.id, geometry=PointGeometry(coordinates=(c.lon, c.lat)), properties=props)


_Dept = Field(default=None, min_length=1, max_length=DEPARTMENT_CODE_MAX)


class ComponentIn(BaseModel):
    """A component to record; without ``id`` the next free sequence is allocated."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=r"^\d{16}$", examples=["3205080101000001"])
    class_code: str = Field(pattern=r"^C?\d{4}$", examples=["C0101"])
    name: str = Field(default="", max_length=NAME_MAX)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    owner: str = Field(min_length=1, max_length=DEPARTMENT_CODE_MAX)
    maintainer: str | None = _Dept
    competent_department: str | None = _Dept
    admin_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    state: ComponentState = ComponentState.NORMAL
    first_recorded: date | None = None
    data_source: str | None = Field(default=None, max_length=DATA_SOURCE_MAX)
    note: str | None = None

    def draft(self) -> ComponentDraft:
        return ComponentDraft(**self.model_dump())


class ComponentPatch(BaseModel):
    """Fields to change; a field left out stays as it is, ``null`` clears an optional one."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    owner: str | None = Field(default=None, min_length=1, max_length=DEPARTMENT_CODE_MAX)
    maintainer: str | None = _Dept
    competent_department: str | None = _Dept
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    data_source: str | None = Field(default=None, max_length=DATA_SOURCE_MAX)
    note: str | None = None

    def change(self) -> ComponentChange:
        return ComponentChange({k: getattr(self, k) for k in self.model_fields_set})


class StateChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: ComponentState


class ClassCountOut(BaseModel):
    area_code: str | None
    class_code: str
    count: int


class ComponentHistoryOut(BaseModel):
    """One recorded change; ``changes`` maps each field to ``[old, new]``."""

    at: datetime
    actor: str = Field(description="user:ID, api_key:ID, or console")
    action: Literal["created", "updated", "state_changed", "retired"]
    changes: dict[str, list[Any]]
