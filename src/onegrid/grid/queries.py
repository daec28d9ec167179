"""The grid's read side: areas, unit grids, coverage, responsibility, and point location.

Every query takes ``on``: the day to answer for (areas change; an old case resolves to the area of
its day). ``on=None`` means the latest version, including one scheduled to start later: for admin
views; whatever happens now passes the city's today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onegrid.core.errors import NotFound
from onegrid.grid.addresses import StandardAddress, normalise_address
from onegrid.grid.domain import Location
from onegrid.grid.location import get_locator, locate, locate_many
from onegrid.grid.models import (
    AddressRow,
    AreaRow,
    DutyRuleRow,
    GridChangeRow,
    InspectorGridRow,
    UnitGridRow,
)
from onegrid.grid.responsibility import DutyKind, DutyMatch, DutyRule, choose_department
from onegrid.grid.storage import valid_on_clause

__all__ = [
    "AreaView",
    "GridStats",
    "UnitGridView",
    "area_codes_on",
    "areas_feature_collection",
    "child_areas",
    "count_addresses",
    "duty_rules",
    "find_address",
    "find_address_by_id",
    "get_area",
    "get_locator",
    "get_unit_grid",
    "grid_stats",
    "grids_of_inspector",
    "inspectors_for",
    "list_areas",
    "list_unit_grids",
    "locate",
    "locate_many",
    "responsible_department",
    "standard_address_of",
]

_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class AreaView:
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
    geometry: Any = None
    """A shapely geometry (WGS84) when asked for, else None."""


@dataclass(frozen=True)
class UnitGridView:
    code: str
    community_code: str
    bbox: tuple[float, float, float, float]
    area_m2: float
    source: str
    h3_cell: str | None
    land_use: str | None
    management_level: str | None
    valid_from: date
    valid_to: date | None
    geometry: Any = None


def _area_view(row: AreaRow, with_geometry: bool) -> AreaView:
    return AreaView(
        row.code,
        row.level,
        row.parent_code,
        row.name_zh,
        row.name_en,
        (row.min_lon, row.min_lat, row.max_lon, row.max_lat),
        row.area_m2,
        row.population,
        row.valid_from,
        row.valid_to,
        shapely.from_wkb(row.geometry) if with_geometry else None,
    )


def _grid_view(row: UnitGridRow, with_geometry: bool) -> UnitGridView:
    return UnitGridView(
        row.code,
        row.community_code,
        (row.min_lon, row.min_lat, row.max_lon, row.max_lat),
        row.area_m2,
        row.source,
        row.h3_cell,
        row.land_use,
        row.management_level,
        row.valid_from,
        row.valid_to,
        shapely.from_wkb(row.geometry) if with_geometry else None,
    )


def list_areas(
    session: Session,
    *,
    level: str | None = None,
    parent: str | None = None,
    on: date | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[AreaView]:
    query = select(AreaRow).where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on))
    if level is not None:
        query = query.where(AreaRow.level == level)
    if parent is not None:
        query = query.where(AreaRow.parent_code == parent)
    rows = session.scalars(query.order_by(AreaRow.code).limit(limit).offset(offset))
    return [_area_view(r, with_geometry=False) for r in rows]


def get_area(session: Session, code: str, on: date | None = None) -> AreaView:
    row = session.scalar(
        select(AreaRow).where(
            AreaRow.code == code, valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on)
        )
    )
    if row is None:
        when = f" on {on}" if on else ""
        raise NotFound(f"no area {code}{when}")
    return _area_view(row, with_geometry=True)


def child_areas(session: Session, code: str, on: date | None = None) -> list[AreaView]:
    get_area(session, code, on)
    return list_areas(session, parent=code, on=on, limit=100_000)


def area_codes_on(session: Session, on: date | None = None) -> set[str]:
    return set(
        session.scalars(
            select(AreaRow.code).where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on))
        )
    )


def list_unit_grids(
    session: Session,
    *,
    community: str | None = None,
    on: date | None = None,
    limit: int = 1000,
    offset: int = 0,
    with_geometry: bool = False,
) -> list[UnitGridView]:
    query = select(UnitGridRow).where(
        valid_on_clause(UnitGridRow.valid_from, UnitGridRow.valid_to, on)
    )
    if community is not None:
        query = query.where(UnitGridRow.community_code == community)
    rows = session.scalars(query.order_by(UnitGridRow.code).limit(limit).offset(offset))
    return [_grid_view(r, with_geometry=with_geometry) for r in rows]


def get_unit_grid(session: Session, code: str, on: date | None = None) -> UnitGridView:
    row = session.scalar(
        select(UnitGridRow).where(
            UnitGridRow.code == code,
            valid_on_clause(UnitGridRow.valid_from, UnitGridRow.valid_to, on),
        )
    )
    if row is None:
        when = f" on {on}" if on else ""
        raise NotFound(f"no unit grid {code}{when}")
    return _grid_view(row, with_geometry=True)


def areas_feature_collection(
    session: Session, *, level: str | None = None, on: date | None = None, tolerance_m: float = 0
) -> dict[str, Any]:
    """Areas as a GeoJSON FeatureCollection for a map, simplified to ``tolerance_m`` metres
    (topology kept: no part vanishes or crosses itself)."""
    query = select(AreaRow).where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on))
    if level is not None:
        query = query.where(AreaRow.level == level)
    rows = list(session.scalars(query.order_by(AreaRow.code)))
    geoms = shapely.from_wkb(np.array([r.geometry for r in rows], dtype=object))
    if tolerance_m > 0 and rows:
        geoms = shapely.simplify(geoms, tolerance_m / _METRES_PER_DEGREE, preserve_topology=True)
    features = [
        {
            "type": "Feature",
            "id": r.code,
            "properties": {
                "code": r.code,
                "level": r.level,
                "parent_code": r.parent_code,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "area_m2": r.area_m2,
            },
            "geometry": shapely.geometry.mapping(g),
        }
        for r, g in zip(rows, geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class GridStats:
    areas_by_level: dict[str, int]
    unit_grids_by_source: dict[str, int]
    unit_grid_area_m2: float
    inspector_assignments: int
    duty_rules: int
    last_change: str | None
    last_change_at: datetime | None


def grid_stats(session: Session, on: date | None = None) -> GridStats:
    areas = session.execute(
        select(AreaRow.level, func.count())
        .where(valid_on_clause(AreaRow.valid_from, AreaRow.valid_to, on))
        .group_by(AreaRow.level)
    ).all()
    grids = session.execute(
        select(UnitGridRow.source, func.count(), func.coalesce(func.sum(UnitGridRow.area_m2), 0))
        .where(valid_on_clause(UnitGridRow.valid_from, UnitGridRow.valid_to, on))
        .group_by(UnitGridRow.source)
    ).all()
    inspectors = session.scalar(
        select(func.count())
        .select_from(InspectorGridRow)
        .where(valid_on_clause(InspectorGridRow.valid_from, InspectorGridRow.valid_to, on))
    )
    rules = session.scalar(
        select(func.count())
        .select_from(DutyRuleRow)
        .where(valid_on_clause(DutyRuleRow.valid_from, DutyRuleRow.valid_to, on))
    )
    last = session.execute(
        select(GridChangeRow.note, GridChangeRow.changed_at)
        .order_by(GridChangeRow.id.desc())
        .limit(1)
    ).first()
    return GridStats(
        {level: n for level, n in areas},
        {source: n for source, n, _ in grids},
        float(sum(a for _, _, a in grids)),
        inspectors or 0,
        rules or 0,
        last.note if last else None,
        last.changed_at if last else None,
    )


def inspectors_for(session: Session, unit_grid_code: str, on: date | None = None) -> list[int]:
    """User ids (people context) of the inspectors who patrol the grid on ``on``."""
    return list(
        session.scalars(
            select(InspectorGridRow.user_id)
            .where(
                InspectorGridRow.unit_grid_code == unit_grid_code,
                valid_on_clause(InspectorGridRow.valid_from, InspectorGridRow.valid_to, on),
            )
            .order_by(InspectorGridRow.user_id)
            .distinct()
        )
    )


def grids_of_inspector(session: Session, user_id: int, on: date | None = None) -> list[str]:
    return list(
        session.scalars(
            select(InspectorGridRow.unit_grid_code)
            .where(
                InspectorGridRow.user_id == user_id,
                valid_on_clause(InspectorGridRow.valid_from, InspectorGridRow.valid_to, on),
            )
            .order_by(InspectorGridRow.unit_grid_code)
            .distinct()
        )
    )


def duty_rules(
    session: Session, *, area_codes: list[str] | None = None, on: date | None = None
) -> list[DutyRule]:
    query = select(DutyRuleRow).where(
        valid_on_clause(DutyRuleRow.valid_from, DutyRuleRow.valid_to, on)
    )
    if area_codes is not None:
        query = query.where(DutyRuleRow.area_code.in_(area_codes))
    return [
        DutyRule(r.id, r.area_code, r.category_prefix, r.department_code, DutyKind(r.kind))
        for r in session.scalars(query.order_by(DutyRuleRow.id))
    ]


def responsible_department(
    session: Session, category_code: str, location: Location, *, on: date
) -> DutyMatch | None:
    """The department a ``category_code`` problem at ``location`` goes to on the day ``on``, and
    why; None when neither an owner rule nor any territorial unit covers the place.

    The day is required: rules can be scheduled ahead, so the latest version (``on=None``) may
    be one that starts next month while today's rule is still in force."""
    rules = duty_rules(session, area_codes=list(location.area_chain), on=on)
    return choose_department(rules, category_code, location)


def standard_address_of(row: AddressRow) -> StandardAddress:
    return StandardAddress(
        id=row.address_id,
        text=row.text,
        lon=row.lon,
        lat=row.lat,
        unit_grid=row.unit_grid_code,
        area_code=row.area_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def find_address_by_id(session: Session, address_id: str, on: date) -> StandardAddress | None:
    """The standard address the city registered under ``address_id``, as it is on ``on``."""
    row = session.scalars(
        select(AddressRow).where(
            AddressRow.address_id == address_id.strip(),
            valid_on_clause(AddressRow.valid_from, AddressRow.valid_to, on),
        )
    ).first()
    return standard_address_of(row) if row else None


def find_address(session: Session, text: str, on: date) -> StandardAddress | None:
    """The one standard address spelled ``text`` on ``on`` (compared in its normalised form:
    width, case, spaces and punctuation folded); None when there is none, or more than one,
    since a register that cannot tell which must not guess (see ``grid.addresses``)."""
    normalised = normalise_address(text)
    if not normalised:
        return None
    rows = session.scalars(
        select(AddressRow)
        .where(
            AddressRow.normalised == normalised,
            valid_on_clause(AddressRow.valid_from, AddressRow.valid_to, on),
        )
        .limit(2)
    ).all()
    return standard_address_of(rows[0]) if len(rows) == 1 else None


def count_addresses(session: Session, on: date | None = None) -> int:
    """How many standard addresses the register holds on ``on``."""
    return int(
        session.execute(
            select(func.count()).where(
                valid_on_clause(AddressRow.valid_from, AddressRow.valid_to, on)
            )
        ).scalar_one()
    )
