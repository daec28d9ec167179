"""Who answers for what, where: inspectors' grids and duty rules (the dispatch catalogue, 直派),
edited by admins, and the route a (category, point) pair would take, so a rule can be tested.

Lists need ``grid.read`` and show only what the caller's grants reach; writes need
``grid.admin`` over the area or grid they touch. The route is worked out by
``dispatch.routing`` exactly as a new case's would be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from onegrid.api.auth import requires
from onegrid.api.deps import AppClock, AppSettings, DbSession
from onegrid.api.ids import row_id
from onegrid.api.v1.grid_admin import require_over, today
from onegrid.assets.queries import find_category
from onegrid.core.cursors import ID_MAX
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.dispatch.routing.queries import route_for
from onegrid.grid import coverage, queries, services
from onegrid.grid.responsibility import prefix_covers
from onegrid.grid.schemas import (
    AssignIn,
    AssignmentEndIn,
    AssignmentOut,
    AssignOut,
    DutyRuleEndIn,
    DutyRuleIn,
    DutyRuleOut,
    LocationOut,
)
from onegrid.people.domain import Principal, Role
from onegrid.people.policy import reach
from onegrid.people.queries import find_department, find_user, grants_of, usernames

router = APIRouter(tags=["grid admin"])
GridAdmin = Annotated[Principal, requires("grid.admin")]
GridReader = Annotated[Principal, requires("grid.read")]
V = TypeVar("V")  # a view listed, kept when its grid or area is within reach
On = Annotated[
    date | None,
    Query(description="Valid on this day; default: in force today or starting later."),
]
Ended = Annotated[bool, Query(description="Include rules or assignments that have ended.")]
DutyRuleId = Annotated[
    int, Path(description="A duty rule's id"), row_id(lambda n: f"no duty rule #{n}")
]


def _assignments_out(db: DbSession, views: list[coverage.AssignmentView]) -> list[AssignmentOut]:
    names = usernames(db, {v.user_id for v in views})
    return [
        AssignmentOut(
            id=v.id,
            user_id=v.user_id,
            username=names.get(v.user_id),
            unit_grid_code=v.unit_grid_code,
            valid_from=v.valid_from,
            valid_to=v.valid_to,
        )
        for v in views
    ]


def _grid_chains(db: DbSession, codes: list[str]) -> dict[str, tuple[str, ...]]:
    communities = coverage.grid_communities(db, codes)
    return coverage.chains_below(db, {c: communities.get(c) for c in codes})


def _readable(
    principal: Principal,
    views: list[V],
    code_of: Callable[[V], str],
    chains_of: Callable[[set[str]], Mapping[str, tuple[str, ...]]],
) -> list[V]:
    """The views whose grid or area lies within the principal's ``grid.read`` reach."""
    scope = reach(principal, "grid.read")
    if scope.everywhere:
        return views
    chains = chains_of({code_of(v) for v in views})
    return [v for v in views if scope.covers(chains[code_of(v)])]


@router.get(
    "/inspector-grids",
    summary="Inspectors' unit grids",
    response_model=list[AssignmentOut],
)
def list_assignments(
    principal: GridReader,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    user_id: Annotated[int | None, Query(gt=0, le=ID_MAX)] = None,
    unit_grid_code: Annotated[str | None, Query(max_length=15)] = None,
    area: Annotated[
        str | None,
        Query(max_length=15, description="Grids whose code starts with this area code."),
    ] = None,
    on: On = None,
    include_ended: Ended = False,
) -> list[AssignmentOut]:
    views = coverage.find_assignments(
        db,
        user_id=user_id,
        unit_grid_code=unit_grid_code,
        grid_prefix=area,
        on=on,
        not_ended_on=today(clock, settings),
        include_ended=include_ended,
    )
    views = _readable(
        principal,
        views,
        lambda v: v.unit_grid_code,
        lambda codes: _grid_chains(db, sorted(codes)),
    )
    return _assignments_out(db, views)


def _check_inspector(db: DbSession, user_id: int) -> None:
    user = find_user(db, user_id)
    if user is None:
        raise InvalidInput.one("user_id", "user-exists", f"no user with id {user_id}")
    if not any(g.role is Role.INSPECTOR for g in grants_of(user)):
        raise InvalidInput.one(
            "user_id", "inspector-role", f"{user.username} holds no inspector grant"
        )


@router.post(
    "/inspector-grids",
    summary="Assign an inspector one or many unit grids",
    response_model=AssignOut,
    status_code=status.HTTP_201_CREATED,
)
def assign(
    principal: GridAdmin, db: DbSession, clock: AppClock, settings: AppSettings, body: AssignIn
) -> AssignOut:
    codes = sorted(set(body.unit_grid_codes))
    require_over(principal, _grid_chains(db, codes))
    _check_inspector(db, body.user_id)
    added = services.assign_inspector_to_grids(
        db,
        clock,
        user_id=body.user_id,
        unit_grid_codes=codes,
        valid_from=body.valid_from or today(clock, settings),
    )
    wanted = set(codes)
    views = [
        v for v in coverage.find_assignments(db, user_id=body.user_id) if v.unit_grid_code in wanted
    ]
    return AssignOut(added=added, assignments=_assignments_out(db, views))


@router.post(
    "/inspector-grids/end",
    summary="End an inspector's assignment to a unit grid",
    response_model=AssignmentOut,
)
def end_assignment(
    principal: GridAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    body: AssignmentEndIn,
) -> AssignmentOut:
    require_over(principal, _grid_chains(db, [body.unit_grid_code]))
    current = coverage.find_assignments(
        db, user_id=body.user_id, unit_grid_code=body.unit_grid_code
    )
    valid_to = body.valid_to or today(clock, settings)
    services.end_inspector_assignment(
        db, user_id=body.user_id, unit_grid_code=body.unit_grid_code, valid_to=valid_to
    )
    # The open assignment the service has just ended (it refuses when there is none).
    [ended] = _assignments_out(db, [replace(v, valid_to=valid_to) for v in current])
    return ended


def _rule_out(v: coverage.DutyRuleView) -> DutyRuleOut:
    return DutyRuleOut(
        id=v.id,
        area_code=v.area_code,
        category_prefix=v.category_prefix,
        department_code=v.department_code,
        kind=v.kind,
        valid_from=v.valid_from,
        valid_to=v.valid_to,
    )


@router.get(
    "/duty-rules",
    summary="The duty rules (dispatch catalogue), filtered",
    response_model=list[DutyRuleOut],
)
def list_duty_rules(
    principal: GridReader,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    area: Annotated[str | None, Query(max_length=32, description="Rules on this area.")] = None,
    category_prefix: Annotated[
        str | None,
        Query(max_length=16, description="This prefix and its subcategories (E01: E01, E0101)."),
    ] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    on: On = None,
    include_ended: Ended = False,
) -> list[DutyRuleOut]:
    views = coverage.find_duty_rules(
        db,
        area_code=area,
        category_prefix=category_prefix,
        department_code=department,
        on=on,
        not_ended_on=today(clock, settings),
        include_ended=include_ended,
    )
    views = _readable(
        principal, views, lambda v: v.area_code, lambda codes: coverage.area_chains(db, codes)
    )
    return [_rule_out(v) for v in views]


@router.post(
    "/duty-rules",
    summary="Add a duty rule: a department answers for a category prefix in an area",
    response_model=DutyRuleOut,
    status_code=status.HTTP_201_CREATED,
    description="It replaces the rule for the same area, prefix and kind from valid_from.",
)
def create_duty_rule(
    principal: GridAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    body: DutyRuleIn,
) -> DutyRuleOut:
    require_over(principal, coverage.area_chains(db, [body.area_code]))
    department = body.department_code.strip()
    if find_department(db, department) is None:
        raise InvalidInput.one(
            "department_code",
            "known-department",
            f"no department {department!r}: routing would skip the rule",
        )
    rule_id = services.set_duty_rule(
        db,
        clock,
        area_code=body.area_code,
        category_prefix=body.category_prefix.strip().upper(),
        department_code=department,
        kind=body.kind,
        valid_from=body.valid_from or today(clock, settings),
    )
    view = coverage.get_duty_rule(db, rule_id)
    assert view is not None  # written in this transaction
    return _rule_out(view)


@router.post(
    "/duty-rules/{rule_id}/end",
    summary="End a duty rule: it no longer holds from valid_to",
    response_model=DutyRuleOut,
)
def end_duty_rule(
    principal: GridAdmin,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    rule_id: DutyRuleId,
    body: DutyRuleEndIn,
) -> DutyRuleOut:
    view = coverage.get_duty_rule(db, rule_id)
    if view is None:
        raise NotFound(f"no duty rule #{rule_id}")
    require_over(principal, coverage.area_chains(db, [view.area_code]))
    services.end_duty_rule(db, rule_id=rule_id, valid_to=body.valid_to or today(clock, settings))
    ended = coverage.get_duty_rule(db, rule_id)
    assert ended is not None
    return _rule_out(ended)


class RouteOut(BaseModel):
    department_code: str
    rule: str = Field(
        description="component_maintainer, component_owner, duty_owner, territorial, "
        "district_fallback"
    )
    rule_id: int | None
    explanation: str


class RouteExplainOut(BaseModel):
    category: str
    location: LocationOut
    route: RouteOut | None = Field(description="None: no rule and no district government.")
    rules_here: list[DutyRuleOut] = Field(
        description="The rules on the point's areas that cover the category, finest area last."
    )


@router.get(
    "/duty-rules/explain",
    summary="Which unit a problem of this category at this point goes to, and why",
    response_model=RouteExplainOut,
)
def explain_route(
    principal: GridReader,
    db: DbSession,
    category: Annotated[str, Query(min_length=1, max_length=16)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    clock: AppClock,
    settings: AppSettings,
    component_id: Annotated[str | None, Query(max_length=16)] = None,
    on: Annotated[
        date | None, Query(description="Route as on this day; default: the city's today.")
    ] = None,
) -> RouteExplainOut:
    code = category.strip().upper()
    if find_category(db, code) is None:
        raise InvalidInput.one(
            "category", "known-category", f"no category {code!r} in the taxonomy in use"
        )
    day = on or today(clock, settings)
    location = queries.locate(db, lon, lat, day)
    if location is None:
        return RouteExplainOut(
            category=code, location=LocationOut.of(lon, lat, None), route=None, rules_here=[]
        )
    route = route_for(db, code, location, component_id or None, on=day)
    chain = list(location.area_chain)
    rules = [
        r
        for r in coverage.find_duty_rules(db, area_codes=chain, on=day)
        if prefix_covers(r.category_prefix, code)
    ]
    rules.sort(key=lambda r: (chain.index(r.area_code), r.category_prefix.strip("*"), r.id))
    return RouteExplainOut(
        category=code,
        location=LocationOut.of(lon, lat, location),
        route=RouteOut(
            department_code=route.department_code,
            rule=route.rule.value,
            rule_id=route.rule_id,
            explanation=route.explanation,
        )
        if route
        else None,
        rules_here=[_rule_out(r) for r in rules],
    )
