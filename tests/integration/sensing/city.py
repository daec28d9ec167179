"""A small located city for the sensing tests, built through the grid, people and assets
services: two districts, one subdistrict and community each, H3 unit grids, the shipped
taxonomy, departments with duty rules, and a few components to mount devices on.

        116.30          116.31          116.32
    39.92 ┌───────────────┬───────────────┐
          │    110101     │    110112     │
    39.90 └───────────────┴───────────────┘
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import shapely
from sqlalchemy.orm import Session

from onegrid.assets import services as assets
from onegrid.assets.domain import ComponentDraft
from onegrid.core.clock import Clock
from onegrid.grid import services as grid
from onegrid.people import services as people
from onegrid.sensing import services as sensing
from onegrid.sensing.domain.devices import DeviceDraft
from tests.area_layout import import_layout

WEST, MID, EAST = 116.30, 116.31, 116.32
SOUTH, NORTH = 39.90, 39.92
START = date(2025, 1, 1)
CITY, WEST_D, EAST_D = "110000", "110101", "110112"
WEST_SUB, EAST_SUB = "110101001", "110112001"
DEPARTMENTS = {
    "water": "C0102",  # sewage covers
    "ecology": "C0603",  # air-quality stations
    "roads": "C0115",  # street lamps
    "drainage": "E0406",  # waterlogging
}


@dataclass(frozen=True)
class City:
    cover: str  # a sewage manhole cover in the west district, owned by "water"
    station: str  # an air-quality station in the west district, owned by "ecology"
    east_station: str


def _areas() -> dict[str, list[tuple[str, str | None, shapely.Polygon]]]:
    west, east = shapely.box(WEST, SOUTH, MID, NORTH), shapely.box(MID, SOUTH, EAST, NORTH)
    return {
        "city": [(CITY, None, shapely.box(WEST, SOUTH, EAST, NORTH))],
        "district": [(WEST_D, CITY, west), (EAST_D, CITY, east)],
        "subdistrict": [(WEST_SUB, WEST_D, west), (EAST_SUB, EAST_D, east)],
        "community": [(f"{WEST_SUB}001", WEST_SUB, west), (f"{EAST_SUB}001", EAST_SUB, east)],
    }


def build_city(session: Session, clock: Clock, tmp: Path) -> City:
    for level, areas in _areas().items():
        import_layout(session, clock, tmp / f"{level}.geojson", level, areas, START)
    grid.generate_unit_grids(session, clock, valid_from=START)
    assets.ensure_taxonomy(session, clock)
    for code, prefix in DEPARTMENTS.items():
        people.create_department(session, code, f"部门{code}", clock)
        grid.set_duty_rule(
            session,
            clock,
            area_code=CITY,
            category_prefix=prefix,
            department_code=code,
            valid_from=START,
        )
    people.create_department(session, "west-office", "西区办事处", clock)
    grid.set_duty_rule(
        session,
        clock,
        area_code=WEST_SUB,
        category_prefix="*",
        department_code="west-office",
        kind="territorial",
        valid_from=START,
    )
    people.create_department(session, "east-office", "东区办事处", clock)
    grid.set_duty_rule(
        session,
        clock,
        area_code=EAST_SUB,
        category_prefix="*",
        department_code="east-office",
        kind="territorial",
        valid_from=START,
    )
    cover = assets.create_component(
        session,
        ComponentDraft("C0102", "污水井盖", 116.305, 39.91, owner="water"),
        clock,
    )
    station = assets.create_component(
        session,
        ComponentDraft("C0603", "空气站", 116.302, 39.912, owner="ecology"),
        clock,
    )
    east_station = assets.create_component(
        session,
        ComponentDraft("C0603", "空气站东", 116.315, 39.912, owner="ecology"),
        clock,
    )
    sensing.ensure_default_rules(session, clock)
    return City(cover.id, station.id, east_station.id)


def add_devices(session: Session, clock: Clock, city: City) -> None:
    sensing.register_device(
        session,
        DeviceDraft("COVER-1", "manhole_cover", 116.305, 39.91, component_id=city.cover),
        clock,
    )
    sensing.register_device(
        session,
        DeviceDraft("AQ-W1", "air_micro", 116.302, 39.912, component_id=city.station),
        clock,
    )
    sensing.register_device(
        session,
        DeviceDraft("AQ-E1", "air_micro", 116.315, 39.912, component_id=city.east_station),
        clock,
    )
    for i, lon in enumerate((116.303, 116.304), start=1):
        sensing.register_device(session, DeviceDraft(f"WL-{i}", "water_level", lon, 39.905), clock)
