"""Factories for boundary files and a tiny synthetic city (the grid tests share them).

The tiny city lies just south-west of Tiananmen (WGS84), 1.4 km × 0.9 km:

    city 110000 ┌──────────────┬──────────────┐ 39.908
                │ 110101001    │ 110102001    │
                │ ┌──────┬─────┤              │
                │ │ …001 │ …002│              │      communities of 110101001: …001 west,
                ├─┴──────┴─────┼──────────────┤ 39.904                       …002 east
                │ 110101002    │ 110102002    │
                └──────────────┴──────────────┘ 39.900
             116.390        116.398        116.406
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.grid import crs
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features

WEST, MID, EAST = 116.390, 116.398, 116.406
SOUTH, EQUATOR, NORTH = 39.900, 39.904, 39.908
COMMUNITY_SPLIT = 116.394
START = date(2026, 1, 1)


def box(x0: float, y0: float, x1: float, y1: float) -> Any:
    return shapely.box(x0, y0, x1, y1)


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": shapely.geometry.mapping(geometry) if geometry is not None else None,
    }


def write_geojson(
    path: Path,
    features: list[dict[str, Any]],
    *,
    encoding: str = "utf-8",
    declared_crs: str | None = None,
) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if declared_crs:
        doc["crs"] = {"type": "name", "properties": {"name": declared_crs}}
    path.write_bytes(json.dumps(doc, ensure_ascii=False).encode(encoding))
    return path


def to_gcj02(geometry: Any) -> Any:
    def shift(coords: np.ndarray) -> np.ndarray:
        x, y = crs.wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, shift)


CITY = {"110000": box(WEST, SOUTH, EAST, NORTH)}
DISTRICTS = {
    "110101": box(WEST, SOUTH, MID, NORTH),
    "110102": box(MID, SOUTH, EAST, NORTH),
}
SUBDISTRICTS = {
    "110101001": box(WEST, EQUATOR, MID, NORTH),
    "110101002": box(WEST, SOUTH, MID, EQUATOR),
    "110102001": box(MID, EQUATOR, EAST, NORTH),
    "110102002": box(MID, SOUTH, EAST, EQUATOR),
}
COMMUNITIES = {
    "110101001001": box(WEST, EQUATOR, COMMUNITY_SPLIT, NORTH),
    "110101001002": box(COMMUNITY_SPLIT, EQUATOR, MID, NORTH),
}
NAMES = {
    "110000": "北京市",
    "110101": "东城区",
    "110102": "西城区",
    "110101001": "东华门街道",
    "110101002": "景山街道",
    "110102001": "西长安街街道",
    "110102002": "新街口街道",
    "110101001001": "多福巷社区",
    "110101001002": "银闸社区",
}


def level_file(tmp: Path, shapes: dict[str, Any], name: str) -> Path:
    return write_geojson(
        tmp / f"{name}.geojson",
        [feature(g, code=c, name=NAMES.get(c, c), name_en=f"Area {c}") for c, g in shapes.items()],
    )


def import_level(
    session: Session,
    clock: Clock,
    path: Path,
    level: Level,
    *,
    valid_from: date = START,
    **options: Any,
) -> Any:
    from onegrid.grid import services

    opts = AreaImportOptions(
        level=level, code_field="code", valid_from=valid_from, name_field="name", **options
    )
    return services.import_areas(session, read_features(path), opts, clock)


def build_tiny_city(session: Session, clock: Clock, tmp: Path, *, communities: bool = True) -> None:
    import_level(session, clock, level_file(tmp, CITY, "city"), Level.CITY)
    import_level(
        session,
        clock,
        level_file(tmp, DISTRICTS, "districts"),
        Level.DISTRICT,
        parent_code="110000",
    )
    import_level(
        session,
        clock,
        level_file(tmp, SUBDISTRICTS, "subdistricts"),
        Level.SUBDISTRICT,
        parent_from_code_prefix=6,
    )
    if communities:
        import_level(
            session,
            clock,
            level_file(tmp, COMMUNITIES, "communities"),
            Level.COMMUNITY,
            parent_from_code_prefix=9,
        )
