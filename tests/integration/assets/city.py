"""A small located city for the assets tests, built through the grid and people services.

Two districts side by side, each one subdistrict and one community, 1.7 km × 2.2 km, just west of
central Beijing (WGS84). With ``admin_codes`` the codes are real-looking admin codes (110101…);
without, they are a test city's letters (T1, T1A…), which component IDs cannot be checked against.

        116.30          116.31          116.32
    39.92 ┌───────────────┬───────────────┐
          │ 110101        │ 110102        │
          │ (T1)          │ (T2)          │
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
from onegrid.people import services as people
from tests.area_layout import import_layout

WEST, MID, EAST = 116.30, 116.31, 116.32
SOUTH, NORTH = 39.90, 39.92
START = date(2026, 1, 1)
IN_WEST = (116.305, 39.91)
IN_EAST = (116.315, 39.91)
OUTSIDE = (116.40, 39.95)
DEPARTMENTS = ("water", "sewer", "lamps", "gardens")


def _codes(admin_codes: bool) -> dict[str, list[tuple[str, str | None, shapely.Polygon]]]:
    west, east = shapely.box(WEST, SOUTH, MID, NORTH), shapely.box(MID, SOUTH, EAST, NORTH)
    if admin_codes:
        c, d1, d2 = "110000", "110101", "110102"
    else:
        c, d1, d2 = "T", "T1", "T2"
    s1, s2 = (f"{d1}001", f"{d2}001") if admin_codes else (f"{d1}A", f"{d2}A")
    m1, m2 = (f"{s1}001", f"{s2}001") if admin_codes else (f"{s1}1", f"{s2}1")
    return {
        "city": [(c, None, shapely.box(WEST, SOUTH, EAST, NORTH))],
        "district": [(d1, c, west), (d2, c, east)],
        "subdistrict": [(s1, d1, west), (s2, d2, east)],
        "community": [(m1, s1, west), (m2, s2, east)],
    }


def build_city(
    session: Session, clock: Clock, tmp: Path, *, admin_codes: bool = True, grids: bool = False
) -> None:
    """Areas (and, with ``grids``, H3 unit grids), departments and the shipped taxonomy."""
    for level, areas in _codes(admin_codes).items():
        import_layout(session, clock, tmp / f"{level}.geojson", level, areas, START)
    if grids:
        grid.generate_unit_grids(session, clock, valid_from=START)
    for code in DEPARTMENTS:
        people.create_department(session, code, f"部门{code}", clock)
    assets.ensure_taxonomy(session, clock)
