"""A small located city for the case tests, built through the grid, people and assets services.

Two districts side by side, each with one subdistrict and one community, H3 unit grids, the
shipped taxonomy, departments and duty rules. 110101 is a core district, 110112 a suburban one
(the shipped time limits class them so).

        116.30          116.31          116.32
    39.92 ┌───────────────┬───────────────┐
          │ 110101 (core) │ 110112 (sub.) │
    39.90 └───────────────┴───────────────┘
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import shapely
from sqlalchemy.orm import Session

from onegrid.assets import services as assets
from onegrid.core.clock import Clock
from onegrid.grid import services as grid
from onegrid.grid.crs import parse_crs
from onegrid.grid.importing.addresses import read_address_csv
from onegrid.people import services as people
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.area_layout import import_layout

WEST, MID, EAST = 116.30, 116.31, 116.32
SOUTH, NORTH = 39.90, 39.92
START = date(2025, 1, 1)
IN_CORE = (116.305, 39.91)
IN_SUBURB = (116.315, 39.91)
OUTSIDE = (116.40, 39.95)
CITY, CORE, SUBURB = "110000", "110101", "110112"
CORE_SUB, SUBURB_SUB = "110101001", "110112001"
DEPARTMENTS = ("sanitation", "roads", "gardens", "core-office", "suburb-office")


def _areas() -> dict[str, list[tuple[str, str | None, shapely.Polygon]]]:
    west, east = shapely.box(WEST, SOUTH, MID, NORTH), shapely.box(MID, SOUTH, EAST, NORTH)
    return {
        "city": [(CITY, None, shapely.box(WEST, SOUTH, EAST, NORTH))],
        "district": [(CORE, CITY, west), (SUBURB, CITY, east)],
        "subdistrict": [(CORE_SUB, CORE, west), (SUBURB_SUB, SUBURB, east)],
        "community": [(f"{CORE_SUB}001", CORE_SUB, west), (f"{SUBURB_SUB}001", SUBURB_SUB, east)],
    }


def build_city(session: Session, clock: Clock, tmp: Path) -> None:
    for level, areas in _areas().items():
        import_layout(session, clock, tmp / f"{level}.geojson", level, areas, START)
    grid.generate_unit_grids(session, clock, valid_from=START)
    for code in DEPARTMENTS:
        people.create_department(session, code, f"部门{code}", clock)
    assets.ensure_taxonomy(session, clock)
    grid.set_duty_rule(
        session,
        clock,
        area_code=CITY,
        category_prefix="E01",
        department_code="sanitation",
        valid_from=START,
    )
    for area, office in ((CORE_SUB, "core-office"), (SUBURB_SUB, "suburb-office")):
        grid.set_duty_rule(
            session,
            clock,
            area_code=area,
            category_prefix="*",
            department_code=office,
            kind="territorial",
            valid_from=START,
        )


def principal(
    role: Role, scope: Scope | None = None, user_id: int = 1, name: str | None = None
) -> Principal:
    """A signed-in principal holding one grant (city-wide unless a scope is given)."""
    grant = Grant(role, scope or Scope.city())
    return Principal(user_id, name or role.value, PrincipalKind.USER, (grant,))


INSPECTOR = principal(Role.INSPECTOR, user_id=11)
SHIFT = principal(Role.SHIFT_LEADER, user_id=12)
DISPATCHER = principal(Role.DISPATCHER, user_id=13)
SANITATION = principal(Role.DEPARTMENT_HANDLER, Scope.department("sanitation"), user_id=14)
ROADS = principal(Role.DEPARTMENT_HANDLER, Scope.department("roads"), user_id=15)
REGISTRAR = principal(Role.REGISTRAR, user_id=16)
HOTLINE = principal(Role.HOTLINE_OPERATOR, user_id=17)
CITIZEN = principal(Role.CITIZEN, user_id=18)


def split_core_community(session: Session, clock: Clock, tmp: Path, on: date) -> None:
    """From ``on`` the core subdistrict has two communities: IN_CORE falls in the new, east one
    (unit grids generated again for the new layout)."""
    split = IN_CORE[0] - 0.001
    layout = [
        (f"{CORE_SUB}001", CORE_SUB, shapely.box(WEST, SOUTH, split, NORTH)),
        (f"{CORE_SUB}002", CORE_SUB, shapely.box(split, SOUTH, IN_SUBURB[0] - 0.005, NORTH)),
        (f"{SUBURB_SUB}001", SUBURB_SUB, shapely.box(IN_SUBURB[0] - 0.005, SOUTH, EAST, NORTH)),
    ]
    import_layout(session, clock, tmp / f"communities-from-{on}.geojson", "community", layout, on)
    grid.generate_unit_grids(session, clock, valid_from=on)


# Two door plates of the standard address register (标准地址库): one in the core, one in the suburb.
Plate = tuple[str, str, tuple[float, float]]
CORE_ADDRESS: Plate = ("110101001001-0001", "北京市东城区示范路12号", IN_CORE)
SUBURB_ADDRESS: Plate = ("110112001001-0007", "北京市通州区Demo Road 7号", IN_SUBURB)


def load_register(
    session: Session, clock: Clock, plates: tuple[Plate, ...] = (CORE_ADDRESS, SUBURB_ADDRESS)
) -> None:
    """The register holds ``plates`` from START, read as a CSV file would be."""
    drafts, problems = read_address_csv(
        ["id,address,lon,lat", *(f"{i},{text},{lon},{lat}" for i, text, (lon, lat) in plates)],
        parse_crs("wgs84"),
    )
    grid.load_addresses(session, drafts, problems, clock, valid_from=START)
