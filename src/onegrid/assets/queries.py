"""Reads of the assets context: the taxonomy in use, and the component inventory."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import h3
import numpy as np
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from onegrid.assets.domain import Category, Component, ComponentState, Kind, Urgency
from onegrid.assets.models import (
    CategoryRow,
    ComponentHistoryRow,
    ComponentRow,
    TaxonomyVersionRow,
)
from onegrid.core.cursors import decode_cursor, encode_cursor
from onegrid.core.errors import InvalidInput, NotFound

H3_RES = 10
NEARBY_MAX_RADIUS_M = 2000.0
PAGE_MAX = 500
_EARTH_RADIUS_M = 6_371_008.8
_IN_CHUNK = 1000


# --- taxonomy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxonomyVersion:
    id: int
    name: str
    label: str
    note: str
    source: str
    checksum: str
    category_count: int
    active: bool
    loaded_at: datetime


def _version(row: TaxonomyVersionRow) -> TaxonomyVersion:
    return TaxonomyVersion(
        row.id,
        row.name,
        row.label,
        row.note,
        row.source,
        row.checksum,
        row.category_count,
        row.active,
        row.loaded_at,
    )


def _category(row: CategoryRow) -> Category:
    keywords = row.keywords or {}
    return Category(
        code=row.code,
        kind=Kind(row.kind),
        major=row.major,
        minor=row.minor,
        name_zh=row.name_zh,
        name_en=row.name_en,
        major_name_zh=row.major_name_zh,
        major_name_en=row.major_name_en,
        keywords_zh=tuple(keywords.get("zh", ())),
        keywords_en=tuple(keywords.get("en", ())),
        urgency=Urgency(row.urgency),
        emergency=row.emergency,
        active=row.active,
    )


def current_version(session: Session) -> TaxonomyVersion | None:
    """The newest active taxonomy version; None before any is loaded."""
    row = session.scalars(
        select(TaxonomyVersionRow)
        .where(TaxonomyVersionRow.active.is_(True))
        .order_by(TaxonomyVersionRow.id.desc())
        .limit(1)
    ).first()
    return _version(row) if row else None


def taxonomy_versions(session: Session) -> list[TaxonomyVersion]:
    rows = session.scalars(select(TaxonomyVersionRow).order_by(TaxonomyVersionRow.id.desc()))
    return [_version(r) for r in rows]


def get_taxonomy_version(session: Session, version_id: int) -> TaxonomyVersion:
    row = session.get(TaxonomyVersionRow, version_id)
    if row is None:
        raise NotFound(f"no taxonomy version {version_id}")
    return _version(row)


# A stored version never changes, so its categories are cached for good, keyed by the id and
# the checksum together (one process may see several databases, e.g. in tests).
_by_version: dict[tuple[int, str], tuple[Category, ...]] = {}
_cache_lock = threading.Lock()


def _categories(session: Session, version: TaxonomyVersion) -> tuple[Category, ...]:
    key = (version.id, version.checksum)
    with _cache_lock:
        cached = _by_version.get(key)
    if cached is not None:
        return cached
    rows = session.scalars(
        select(CategoryRow).where(CategoryRow.version_id == version.id).order_by(CategoryRow.code)
    )
    categories = tuple(_category(r) for r in rows)
    if categories:
        with _cache_lock:
            _by_version[key] = categories
    return categories


def categories_of(session: Session, version_id: int) -> tuple[Category, ...]:
    """The classes of one stored version, in use or not."""
    return _categories(session, get_taxonomy_version(session, version_id))


def current_categories(session: Session, kind: Kind | None = None) -> list[Category]:
    """Every class of the taxonomy in use, by code; ``[]`` when none is loaded."""
    version = current_version(session)
    if version is None:
        return []
    return [c for c in _categories(session, version) if kind is None or c.kind is kind]


_VERSIONS = TaxonomyVersionRow.__table__.c
# Every report asks which taxonomy is in use (a case's create, an Open311 post): one prebuilt
# Core statement for two columns, instead of building an ORM query and loading the whole version
# row each time (about 15 against 130 µs), then the version's classes by code.
_IN_USE = (
    select(_VERSIONS.id, _VERSIONS.checksum)
    .where(_VERSIONS.active.is_(True))
    .order_by(_VERSIONS.id.desc())
    .limit(1)
)
_by_code: dict[tuple[int, str], dict[str, Category]] = {}


def find_category(session: Session, code: str) -> Category | None:
    """A class of the taxonomy in use, by code; ``None`` when it has none or none is loaded."""
    row = session.connection().execute(_IN_USE).first()
    if row is None:
        return None
    key = (int(row[0]), str(row[1]))
    with _cache_lock:
        table = _by_code.get(key)
    if table is None:
        table = {c.code: c for c in categories_of(session, key[0])}
        if table:
            with _cache_lock:
                _by_code[key] = table
    return table.get(code.strip().upper())


def get_category(session: Session, code: str) -> Category:
    category = find_category(session, code)
    if category is None:
        raise NotFound(f"no category {code!r} in the taxonomy in use")
    return category


def search_categories(
    session: Session, text: str, kind: Kind | None = None, limit: int = 20
) -> list[Category]:
    """Active classes whose code, names or keywords match ``text`` (Chinese or English), best
    first: what a form may offer."""
    scored = [(c.search_score(text), c) for c in current_categories(session, kind) if c.active]
    hits = [(s, c) for s, c in scored if s > 0]
    hits.sort(key=lambda sc: (-sc[0], sc[1].code))
    return [c for _, c in hits[:limit]]


# --- components -------------------------------------------------------------------------------


def component_of(row: ComponentRow) -> Component:
    return Component(
        id=row.id,
        name=row.name,
        class_code=row.class_code,
        admin_code=row.admin_code,
        competent_department=row.competent_department,
        owner=row.owner,
        maintainer=row.maintainer,
        unit_grid=row.unit_grid,
        community=row.community,
        subdistrict=row.subdistrict,
        district=row.district,
        lon=row.lon,
        lat=row.lat,
        h3_10=h3.int_to_str(row.h3_10) if row.h3_10 else None,
        state=ComponentState(row.state),
        first_recorded=row.first_recorded,
        last_changed=row.last_changed,
        data_source=row.data_source,
        note=row.note,
    )


def find_component(session: Session, component_id: str) -> Component | None:
    row = session.get(ComponentRow, component_id.strip())
    return component_of(row) if row else None


def get_component(session: Session, component_id: str) -> Component:
    component = find_component(session, component_id)
    if component is None:
        raise NotFound(f"no component with ID {component_id!r}")
    return component


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: dict[str, list[Any]]  # field → [old, new]


def component_history(session: Session, component_id: str) -> list[HistoryEntry]:
    """A component's changes, oldest first (an import shows as the component's data_source)."""
    rows = session.execute(
        select(
            ComponentHistoryRow.at,
            ComponentHistoryRow.actor,
            ComponentHistoryRow.action,
            ComponentHistoryRow.changes,
        )
        .where(ComponentHistoryRow.component_id == component_id)
        .order_by(ComponentHistoryRow.id)
    )
    return [HistoryEntry(r.at, r.actor, r.action, dict(r.changes)) for r in rows]


@dataclass(frozen=True)
class ComponentFilter:
    """Conditions a listing applies together; ``area`` matches a code at any tier."""

    class_code: str | None = None
    state: ComponentState | None = None
    owner: str | None = None
    maintainer: str | None = None
    unit_grid: str | None = None
    area: str | None = None
    # What the reader may see (``people.policy.reach``): None is everything; otherwise
    # components in these areas or owned or maintained by these departments.
    visible_areas: frozenset[str] | None = None
    visible_departments: frozenset[str] = frozenset()

    def clauses(self) -> list[ColumnElement[bool]]:
        c = ComponentRow
        out: list[ColumnElement[bool]] = []
        if self.visible_areas is not None:
            areas, depts = list(self.visible_areas), list(self.visible_departments)
            out.append(
                or_(
                    c.district.in_(areas),
                    c.subdistrict.in_(areas),
                    c.community.in_(areas),
                    c.unit_grid.in_(areas),
                    c.owner.in_(depts),
                    c.maintainer.in_(depts),
                )
            )
        if self.class_code:
            code = self.class_code.upper()
            # A major class (``C01``) lists all of its minor classes.
            out.append(c.class_code.startswith(code) if len(code) == 3 else c.class_code == code)
        if self.state is not None:
            out.append(c.state == self.state.value)
        if self.owner:
            out.append(c.owner == self.owner)
        if self.maintainer:
            out.append(c.maintainer == self.maintainer)
        if self.unit_grid:
            out.append(c.unit_grid == self.unit_grid)
        if self.area:
            out.append(
                or_(
                    c.district == self.area,
                    c.subdistrict == self.area,
                    c.community == self.area,
                    c.unit_grid == self.area,
                )
            )
        return out


@dataclass(frozen=True)
class ComponentPage:
    items: list[Component]
    next_cursor: str | None


def list_components(
    session: Session,
    filters: ComponentFilter | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> ComponentPage:
    """Components in ID order, a page at a time; pass ``next_cursor`` back for the next page."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput.one("limit", "range", f"limit must be 1 to {PAGE_MAX}")
    stmt = select(ComponentRow).where(*(filters or ComponentFilter()).clauses())
    if cursor:
        stmt = stmt.where(ComponentRow.id > decode_cursor(cursor, max_length=16))
    rows = list(session.scalars(stmt.order_by(ComponentRow.id).limit(limit + 1)))
    more = len(rows) > limit
    items = [component_of(r) for r in rows[:limit]]
    return ComponentPage(items, encode_cursor(items[-1].id) if more and items else None)


@dataclass(frozen=True)
class NearbyComponent:
    component: Component
    distance_m: float


def distances_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Great-circle distances (haversine) from one point to many, in metres."""
    p1, p2 = math.radians(lat), np.radians(lats)
    dphi = p2 - p1
    dlam = np.radians(lons) - math.radians(lon)
    a = np.sin(dphi / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return np.asarray(2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))))


def _disk_cells(lon: float, lat: float, radius_m: float) -> list[int]:
    """H3 cells that together cover the circle: k rings of hexagons reach at least 1.5 edge
    lengths each; the smallest res-10 edges are about 0.6 of the average."""
    edge = h3.average_hexagon_edge_length(H3_RES, unit="m") * 0.6
    k = math.ceil(radius_m / (1.5 * edge)) + 1
    centre = h3.latlng_to_cell(lat, lon, H3_RES)
    return [h3.str_to_int(c) for c in h3.grid_disk(centre, k)]


def check_point(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidInput.one("lon", "coordinate_range", f"longitude {lon} is outside -180..180")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidInput.one("lat", "coordinate_range", f"latitude {lat} is outside -90..90")


def nearby_components(
    session: Session,
    lon: float,
    lat: float,
    radius_m: float = 50.0,
    *,
    limit: int = 20,
    class_code: str | None = None,
    include_removed: bool = False,
    visible: ComponentFilter | None = None,
) -> list[NearbyComponent]:
    """Components within ``radius_m`` of a WGS84 point, nearest first: which facility a report
    is about."""
    check_point(lon, lat)
    if not (0 < radius_m <= NEARBY_MAX_RADIUS_M):
        raise InvalidInput.one(
            "radius_m", "range", f"radius_m must be above 0 and at most {NEARBY_MAX_RADIUS_M:g}"
        )
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput.one("limit", "range", f"limit must be 1 to {PAGE_MAX}")
    cells = _disk_cells(lon, lat, radius_m)
    extra = ComponentFilter(class_code=class_code).clauses()
    if visible is not None:
        extra += visible.clauses()
    if not include_removed:
        extra.append(ComponentRow.state != ComponentState.REMOVED.value)
    rows: list[ComponentRow] = []
    for start in range(0, len(cells), _IN_CHUNK):
        chunk = cells[start : start + _IN_CHUNK]
        rows += session.scalars(select(ComponentRow).where(ComponentRow.h3_10.in_(chunk), *extra))
    if not rows:
        return []
    dist = distances_m(lon, lat, np.array([r.lon for r in rows]), np.array([r.lat for r in rows]))
    order = [int(i) for i in np.argsort(dist, kind="stable") if dist[i] <= radius_m][:limit]
    return [NearbyComponent(component_of(rows[i]), float(dist[i])) for i in order]


Level = Literal["district", "subdistrict", "community", "unit_grid"]
LEVELS: tuple[Level, ...] = ("district", "subdistrict", "community", "unit_grid")


@dataclass(frozen=True)
class ClassCount:
    area_code: str | None
    class_code: str
    count: int


def count_by_class(
    session: Session,
    level: Level = "district",
    *,
    within: str | None = None,
    include_removed: bool = False,
) -> list[ClassCount]:
    """How many components of each class each area of ``level`` holds, optionally only inside
    the area ``within`` (a code at any tier)."""
    if level not in LEVELS:
        raise InvalidInput.one("level", "known_level", f"level must be one of {', '.join(LEVELS)}")
    area_col = getattr(ComponentRow, level)
    clauses = ComponentFilter(area=within).clauses()
    if not include_removed:
        clauses.append(ComponentRow.state != ComponentState.REMOVED.value)
    stmt = (
        select(area_col, ComponentRow.class_code, func.count())
        .where(*clauses)
        .group_by(area_col, ComponentRow.class_code)
        .order_by(area_col, ComponentRow.class_code)
    )
    return [ClassCount(a, c, int(n)) for a, c, n in session.execute(stmt)]


def component_ids_exist(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored (for other contexts checking references in bulk)."""
    found: set[str] = set()
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = list(ids[start : start + _IN_CHUNK])
        found.update(session.scalars(select(ComponentRow.id).where(ComponentRow.id.in_(chunk))))
    return found
