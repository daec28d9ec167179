"""A small city for the browser tests: the sensing tests' two districts, plus one sign-in per
role the journey needs. Built in-process before the server starts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.grid import queries as grid_queries
from onegrid.grid import services as grid
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.sensing.city import START, WEST_SUB, build_city

PASSWORD = "browser-test-pass-1"
# The west subdistrict's office handles every event there (a territorial duty rule).
HANDLER_DEPARTMENT = "west-office"
USERS: dict[str, tuple[str, Grant, list[str]]] = {
    "citizen": ("市民李四", Grant(Role.CITIZEN, Scope.city()), []),
    "inspector": ("西区监督员", Grant(Role.INSPECTOR, Scope.area(WEST_SUB)), []),
    "leader": ("值班长", Grant(Role.SHIFT_LEADER, Scope.city()), []),
    "dispatcher": ("派遣员", Grant(Role.DISPATCHER, Scope.city()), []),
    "operator": ("12345话务员", Grant(Role.HOTLINE_OPERATOR, Scope.city()), []),
    "handler": (
        "西区承办人",
        Grant(Role.DEPARTMENT_HANDLER, Scope.department(HANDLER_DEPARTMENT)),
        [HANDLER_DEPARTMENT],
    ),
    "admin": ("市系统管理员", Grant(Role.CITY_ADMIN, Scope.city()), []),
}


def build_browser_city(
    session: Session, clock: Clock, tmp: Path, users: tuple[str, ...] | None = None
) -> None:
    """The city, with the sign-ins named (all of ``USERS`` by default; each costs a hash)."""
    build_city(session, clock, tmp)
    for username, (display, g, departments) in USERS.items():
        if users is not None and username not in users:
            continue
        user = people.create_user(
            session,
            username,
            PASSWORD,
            clock,
            display_name=display,
            grants=[g],
            department_codes=departments,
        )
        if username == "inspector":
            codes = [
                u.code
                for c in grid_queries.child_areas(session, WEST_SUB)
                for u in grid_queries.list_unit_grids(session, community=c.code, limit=5000)
            ]
            grid.assign_inspector_to_grids(
                session, clock, user_id=user.id, unit_grid_codes=codes, valid_from=START
            )
