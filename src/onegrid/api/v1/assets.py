"""The taxonomy and the component inventory over HTTP.

Categories are public (a citizen's report form needs them). The inventory is for staff
(``assets.read``), narrowed to the areas and departments of the caller's grants; writes need
``assets.admin`` over the component's area.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from onegrid.api.auth import requires
from onegrid.api.deps import AppClock, AppSettings, DbSession
from onegrid.assets import queries, services
from onegrid.assets.domain import Component, ComponentState, Kind
from onegrid.assets.schemas import (
    CategoryOut,
    ClassCountOut,
    ComponentFeature,
    ComponentHistoryOut,
    ComponentIn,
    ComponentOut,
    ComponentPageOut,
    ComponentPatch,
    NearbyComponentOut,
    StateChangeIn,
    TaxonomyVersionOut,
)
from onegrid.core.errors import NotFound
from onegrid.people.domain import Principal
from onegrid.people.policy import reach

router = APIRouter(tags=["assets"])

Reader = Annotated[Principal, requires("assets.read")]
Admin = Annotated[Principal, requires("assets.admin")]
ComponentId = Annotated[str, Path(pattern=r"^\d{16}$", description="The 16-digit component ID.")]
CategoryCode = Annotated[
    str, Path(pattern=r"^[CEce]\d{4}$", description="A class code such as C0101 or E0402.")
]


def _visible(principal: Principal, base: queries.ComponentFilter) -> queries.ComponentFilter:
    r = reach(principal, "assets.read")
    if r.everywhere:
        return base
    return replace(base, visible_areas=r.area_codes, visible_departments=r.department_codes)


def _visible_one(session: DbSession, principal: Principal, component_id: str) -> Component:
    component = queries.get_component(session, component_id)
    r = reach(principal, "assets.read")
    chain = tuple(
        c
        for c in (
            component.district,
            component.subdistrict,
            component.community,
            component.unit_grid,
        )
        if c
    )
    if not (
        r.covers(chain, component.owner)
        or (component.maintainer is not None and r.covers((), component.maintainer))
    ):
        # Not "forbidden": whether a component exists outside one's scope is not disclosed.
        raise NotFound(f"no component with ID {component_id!r}")
    return component


@router.get(
    "/taxonomy",
    summary="The taxonomy version in use",
    response_model=TaxonomyVersionOut,
)
def current_taxonomy(session: DbSession) -> TaxonomyVersionOut:
    version = queries.current_version(session)
    if version is None:
        raise NotFound("no taxonomy is loaded")
    return TaxonomyVersionOut.model_validate(version, from_attributes=True)


@router.get(
    "/categories",
    summary="Component and event classes of the taxonomy in use",
    response_model=list[CategoryOut],
)
def list_categories(
    session: DbSession,
    kind: Annotated[Kind | None, Query(description="component or event")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Search codes, names and keywords."),
    ] = None,
    include_inactive: Annotated[
        bool,
        Query(description="Also the deactivated classes (kept for the records filed under them)"),
    ] = False,
) -> list[CategoryOut]:
    if q:
        found = queries.search_categories(session, q, kind, limit=50)
    else:
        found = [
            c for c in queries.current_categories(session, kind) if c.active or include_inactive
        ]
    return [CategoryOut.of(c) for c in found]


@router.get(
    "/categories/{code}", summary="One class of the taxonomy in use", response_model=CategoryOut
)
def get_category(session: DbSession, code: CategoryCode) -> CategoryOut:
    return CategoryOut.of(queries.get_category(session, code))


@router.get(
    "/components",
    summary="Components, filtered, in ID order, a page at a time",
    response_model=ComponentPageOut,
)
def list_components(
    session: DbSession,
    principal: Reader,
    class_code: Annotated[
        str | None,
        Query(pattern=r"^[Cc]\d{2}(\d{2})?$", description="C0101, or a major class: C01"),
    ] = None,
    state: ComponentState | None = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    maintainer: Annotated[str | None, Query(max_length=64)] = None,
    unit_grid: Annotated[str | None, Query(max_length=32)] = None,
    area: Annotated[
        str | None, Query(max_length=32, description="A district, subdistrict or community code.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.PAGE_MAX)] = 50,
) -> ComponentPageOut:
    filters = _visible(
        principal,
        queries.ComponentFilter(
            class_code=class_code,
            state=state,
            owner=owner,
            maintainer=maintainer,
            unit_grid=unit_grid,
            area=area,
        ),
    )
    page = queries.list_components(session, filters, cursor=cursor, limit=limit)
    return ComponentPageOut(
        items=[ComponentOut.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/components/nearby",
    summary="Components near a point (WGS84), nearest first",
    response_model=list[NearbyComponentOut],
)
def nearby_components(
    session: DbSession,
    principal: Reader,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    radius_m: Annotated[float, Query(gt=0, le=queries.NEARBY_MAX_RADIUS_M)] = 50.0,
    class_code: Annotated[str | None, Query(pattern=r"^[Cc]\d{2}(\d{2})?$")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[NearbyComponentOut]:
    visible = _visible(principal, queries.ComponentFilter())
    found = queries.nearby_components(
        session, lon, lat, radius_m, limit=limit, class_code=class_code, visible=visible
    )
    return [
        NearbyComponentOut(
            distance_m=round(n.distance_m, 2), component=ComponentOut.of(n.component)
        )
        for n in found
    ]


@router.get(
    "/components/counts",
    summary="Components per class in each area of a tier",
    response_model=list[ClassCountOut],
)
def component_counts(
    session: DbSession,
    principal: Reader,
    level: Annotated[queries.Level, Query()] = "district",
    within: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ClassCountOut]:
    r = reach(principal, "assets.read")
    if not r.everywhere and (within is None or within not in r.area_codes):
        # Counts are city statistics; narrower readers count within an area of their own.
        raise NotFound("counts need a 'within' area you may read")
    return [
        ClassCountOut(area_code=c.area_code, class_code=c.class_code, count=c.count)
        for c in queries.count_by_class(session, level, within=within)
    ]


@router.get(
    "/components/{component_id}.geojson",
    summary="One component as a GeoJSON Feature",
    response_model=ComponentFeature,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def component_feature(
    session: DbSession, principal: Reader, component_id: ComponentId
) -> ComponentFeature:
    return ComponentFeature.of(_visible_one(session, principal, component_id))


@router.get("/components/{component_id}", summary="One component", response_model=ComponentOut)
def get_component(session: DbSession, principal: Reader, component_id: ComponentId) -> ComponentOut:
    return ComponentOut.of(_visible_one(session, principal, component_id))


@router.get(
    "/components/{component_id}/history",
    summary="A component's recorded changes, oldest first (append-only)",
    response_model=list[ComponentHistoryOut],
)
def component_history(
    session: DbSession, principal: Reader, component_id: ComponentId
) -> list[ComponentHistoryOut]:
    _visible_one(session, principal, component_id)
    return [
        ComponentHistoryOut.model_validate(entry, from_attributes=True)
        for entry in queries.component_history(session, component_id)
    ]


@router.post(
    "/components",
    summary="Record a component (the next ID is allocated when none is given)",
    response_model=ComponentOut,
    status_code=201,
)
def create_component(
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    principal: Admin,
    body: ComponentIn,
) -> ComponentOut:
    component = services.create_component(
        session, body.draft(), clock, by=principal, timezone=settings.timezone
    )
    return ComponentOut.of(component)


@router.patch(
    "/components/{component_id}",
    summary="Change a component's names, departments, position or note",
    response_model=ComponentOut,
)
def update_component(
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    principal: Admin,
    component_id: ComponentId,
    body: ComponentPatch,
) -> ComponentOut:
    component = services.update_component(
        session, component_id, body.change(), clock, by=principal, timezone=settings.timezone
    )
    return ComponentOut.of(component)


@router.post(
    "/components/{component_id}/state",
    summary="Change a component's state (removed retires it for good)",
    response_model=ComponentOut,
)
def change_state(
    session: DbSession,
    clock: AppClock,
    principal: Admin,
    component_id: ComponentId,
    body: Annotated[StateChangeIn, Body()],
) -> ComponentOut:
    component = services.change_component_state(
        session, component_id, body.state, clock, by=principal
    )
    return ComponentOut.of(component)
