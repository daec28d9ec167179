"""Parking areas for shared bikes as data: a city's file (GeoJSON or YAML) or one area over HTTP,
checked into drafts before anything is stored.

A file is either a GeoJSON FeatureCollection (each feature's ``properties`` hold ``code``,
``name``, ``capacity`` and, for a ``Point``, ``radius_m``) or a YAML/JSON mapping with a list
under ``areas`` (each item holds the same keys beside a ``geometry``, or ``lon`` and ``lat`` in
place of a point). Every problem is collected, each naming the feature's index and field
(``features[3].properties.capacity``): one bad area refuses the whole file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import shape

from onegrid.core.errors import FieldProblem, InvalidInput

AREA_CODE_MAX = 31  # an alert's subject is ``<operator>@<area>``: 32 + 1 + 31 = 64
NAME_MAX = 200
RADIUS_MAX_M = 1000.0  # a parking area is a few metres to a square, not a district
_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class AreaDraft:
    """A parking area checked and ready to store: a valid (multi)polygon in WGS84."""

    code: str
    name: str
    capacity: int
    geometry: Any


def buffer(lon: float, lat: float, radius_m: float) -> shapely.Geometry:
    """A circle of ``radius_m`` metres around a point, in degrees (fine at parking-area scale)."""
    circle = shapely.Point(0, 0).buffer(radius_m / _M_PER_DEG, quad_segs=16)
    stretched = shapely.affinity.scale(
        circle, xfact=1 / float(np.cos(np.radians(lat))), yfact=1.0, origin=(0, 0)
    )
    return shapely.affinity.translate(stretched, lon, lat)


def check_code(code: object, field: str = "code") -> list[FieldProblem]:
    if not isinstance(code, str) or not code or len(code) > AREA_CODE_MAX or "@" in code:
        return [
            FieldProblem(
                field, "area_code", f"a parking-area code is 1–{AREA_CODE_MAX} chars, no '@'"
            )
        ]
    return []


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _in_wgs84(lon: float, lat: float) -> bool:
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


def check_area(
    code: object,
    name: object,
    capacity: object,
    geometry: object,
    *,
    radius_m: object = None,
    at: str = "",
    props: str = "",
) -> tuple[AreaDraft | None, list[FieldProblem]]:
    """One area from its parts. ``at`` prefixes every field named (``features[3].``); ``props``
    is where the plain values sit below it (``properties.`` in a feature)."""
    problems = check_code(code, f"{at}{props}code")
    if name is None or name == "":
        name = code
    if not isinstance(name, str) or len(name) > NAME_MAX:
        problems.append(
            FieldProblem(f"{at}{props}name", "area_name", f"a name is text of 1–{NAME_MAX} chars")
        )
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        problems.append(
            FieldProblem(
                f"{at}{props}capacity", "capacity", "a capacity is a whole number of bikes, ≥ 0"
            )
        )
    geom = _geometry(geometry, radius_m, at, props, problems)
    if problems or geom is None:
        return None, problems
    assert isinstance(code, str) and isinstance(name, str) and isinstance(capacity, int)
    return AreaDraft(code, name, capacity, geom), []


def _geometry(
    geometry: object, radius_m: object, at: str, props: str, problems: list[FieldProblem]
) -> Any:
    field = f"{at}geometry"
    if not isinstance(geometry, Mapping):
        problems.append(FieldProblem(field, "geometry", "a GeoJSON Polygon, MultiPolygon or Point"))
        return None
    kind = geometry.get("type")
    try:
        geom = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises many kinds for a broken shape
        problems.append(FieldProblem(field, "geojson", f"not a readable geometry: {exc}"[:300]))
        return None
    if geom.is_empty or not all(_in_wgs84(x, y) for x, y in _corners(geom)):
        problems.append(
            FieldProblem(field, "wgs84", "coordinates are WGS84 longitude, latitude (degrees)")
        )
        return None
    if kind == "Point":
        radius = _number(radius_m)
        if radius is None or not 0 < radius <= RADIUS_MAX_M:
            problems.append(
                FieldProblem(
                    f"{at}{props}radius_m",
                    "radius",
                    f"a point needs a radius in metres, above 0 and at most {RADIUS_MAX_M:.0f}",
                )
            )
            return None
        return buffer(geom.x, geom.y, radius)
    if kind not in ("Polygon", "MultiPolygon"):
        problems.append(
            FieldProblem(
                f"{field}.type", "polygon", f"a {kind} is no parking area: Polygon or Point"
            )
        )
        return None
    if not geom.is_valid:
        problems.append(
            FieldProblem(
                field, "valid_polygon", f"the polygon is invalid: {shapely.is_valid_reason(geom)}"
            )
        )
        return None
    return geom


def _corners(geom: Any) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = geom.bounds
    return [(minx, miny), (maxx, maxy)]


def _entry(
    item: object, key: str, i: int, problems: list[FieldProblem]
) -> tuple[Mapping[str, Any], object, str] | None:
    """(plain values, geometry, where the values sit) of one entry of the file's list."""
    if not isinstance(item, Mapping):
        problems.append(FieldProblem(f"{key}[{i}]", "mapping", "each entry is a mapping"))
        return None
    if key == "features":
        props = item.get("properties")
        if not isinstance(props, Mapping):
            problems.append(
                FieldProblem(f"{key}[{i}].properties", "mapping", "code, name, capacity go here")
            )
            return None
        return props, item.get("geometry"), "properties."
    geometry = item.get("geometry")
    if geometry is None and "lon" in item and "lat" in item:
        geometry = {"type": "Point", "coordinates": [item["lon"], item["lat"]]}
    return item, geometry, ""


def list_key(doc: object) -> str:
    """The name of a document's list of areas (``features`` or ``areas``): what the fields a
    refusal names start with."""
    is_geojson = isinstance(doc, Mapping) and doc.get("type") == "FeatureCollection"
    return "features" if is_geojson else "areas"


def parse_areas(doc: object) -> list[AreaDraft]:
    """Every area of a file's document, or ``InvalidInput`` naming every problem."""
    problems: list[FieldProblem] = []
    drafts: list[AreaDraft] = []
    key = list_key(doc)
    if isinstance(doc, Mapping) and (key == "features" or "areas" in doc):
        items = doc.get(key)
    else:
        raise InvalidInput.one(
            "file", "areas_file", "a GeoJSON FeatureCollection or a mapping with a list 'areas'"
        )
    if not isinstance(items, list):
        raise InvalidInput.one(key, "list", f"'{key}' must be a list")
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        at = f"{key}[{i}]."
        entry = _entry(item, key, i, problems)
        if entry is None:
            continue
        props, geometry, where = entry
        draft, found = check_area(
            props.get("code"),
            props.get("name"),
            props.get("capacity"),
            geometry,
            radius_m=props.get("radius_m"),
            at=at,
            props=where,
        )
        problems += found
        if draft is None:
            continue
        if draft.code in seen:
            problems.append(
                FieldProblem(
                    f"{at}{where}code",
                    "unique",
                    f"{draft.code!r} is already {key}[{seen[draft.code]}]",
                )
            )
            continue
        seen[draft.code] = i
        drafts.append(draft)
    if problems:
        raise InvalidInput(problems)
    return drafts
