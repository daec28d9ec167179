"""Which unit a problem goes to, read from the component inventory, the duty rules and the
departments (see ``routing.domain`` for the precedence)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from onegrid.assets.queries import find_component
from onegrid.dispatch.routing.domain import Route, RouteRule, district_government
from onegrid.grid.domain import Location
from onegrid.grid.queries import responsible_department
from onegrid.grid.responsibility import DutyKind
from onegrid.people.queries import find_department


def _known(session: Session, code: str | None) -> bool:
    return bool(code) and find_department(session, code or "") is not None


def _component_route(session: Session, component_id: str) -> Route | None:
    component = find_component(session, component_id)
    if component is None:
        return None
    for rule, code in (
        (RouteRule.COMPONENT_MAINTAINER, component.maintainer),
        (RouteRule.COMPONENT_OWNER, component.owner),
    ):
        if code and _known(session, code):
            role = "maintainer" if rule is RouteRule.COMPONENT_MAINTAINER else "owner"
            return Route(code, rule, f"component {component_id}'s {role} is {code}")
    return None


def route_for(
    session: Session,
    category_code: str,
    location: Location,
    component_id: str | None = None,
    *,
    on: date,
) -> Route | None:
    """The unit the rules in force on the day ``on`` name for the problem, with the rule; None
    if not even the district government of the place is a known unit."""
    if component_id:
        found = _component_route(session, component_id)
        if found is not None:
            return found
    duty = responsible_department(session, category_code, location, on=on)
    if duty is not None and _known(session, duty.department_code):
        rule = RouteRule.DUTY_OWNER if duty.kind is DutyKind.OWNER else RouteRule.TERRITORIAL
        return Route(duty.department_code, rule, duty.explanation, duty.rule_id)
    if location.district:
        code = district_government(location.district)
        if _known(session, code):
            return Route(
                code,
                RouteRule.DISTRICT_FALLBACK,
                f"no duty rule names a unit for {category_code} here, so the district government "
                f"of {location.district} takes it (兜底)",
            )
    return None


def location_of(
    lon: float,
    lat: float,
    h3_10: str | None,
    codes: tuple[str | None, str | None, str | None, str | None, str | None],
) -> Location:
    """A ``Location`` rebuilt from a case's stored codes (unit grid, community, subdistrict,
    district, city), without locating the point again."""
    grid, community, subdistrict, district, city = codes
    return Location(lon, lat, grid, community, subdistrict, district, city, "", h3_10 or "", "")
