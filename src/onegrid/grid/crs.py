"""Coordinate systems: everything is stored in WGS84; input may come in any of these.

GCJ-02 is the obfuscated datum every Chinese web map (AMap, Tencent) must use; BD-09 is Baidu's
further offset of it. Both are public, small algorithms (ADR 0003). The forward WGS84→GCJ-02 step
is a closed formula; the way back has none, so we iterate the forward formula to a fixed point
(error < 1e-9°, about 0.1 mm) instead of the one-step approximation (error up to ~1 m) that most
copies of the algorithm use. Other systems (EPSG codes) go through pyproj.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from onegrid.core.errors import InvalidInput

Floats = NDArray[np.float64]

# Krasovsky 1940 ellipsoid, as the GCJ-02 algorithm defines it.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# The public implementations apply the offset inside this rough box around China.
_CHINA_BOX = (73.66, 3.86, 135.05, 53.55)
_INVERSE_TOLERANCE = 1e-9
_INVERSE_MAX_STEPS = 30

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
ACCEPTED = "wgs84, gcj02, bd09 or an EPSG code such as EPSG:3857"

_ALIASES = {
    "wgs84": WGS84,
    "epsg:4326": WGS84,
    "crs84": WGS84,
    "ogc:crs84": WGS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": WGS84,
    "urn:ogc:def:crs:epsg::4326": WGS84,
    "gcj02": GCJ02,
    "mars": GCJ02,
    "amap": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
}
_EPSG = re.compile(r"^(?:epsg:|urn:ogc:def:crs:epsg::)(\d{4,6})$")


@dataclass(frozen=True)
class CoordinateSystem:
    """A coordinate system we can convert from and to WGS84; ``name`` is canonical."""

    name: str

    @property
    def is_wgs84(self) -> bool:
        return self.name == WGS84


def parse_crs(value: str, field: str = "crs") -> CoordinateSystem:
    """``"GCJ-02"`` → gcj02, ``"EPSG:3857"`` → EPSG:3857; anything else is refused by name."""
    key = value.strip().lower().replace("-", "").replace("_", "")
    if key in _ALIASES:
        return CoordinateSystem(_ALIASES[key])
    match = _EPSG.match(key)
    if match:
        code = int(match.group(1))
        if code == 4326:
            return CoordinateSystem(WGS84)
        try:
            CRS.from_epsg(code)
        except CRSError:
            raise InvalidInput.one(
                field, "known-crs", f"EPSG:{code} is not a coordinate system pyproj knows"
            ) from None
        return CoordinateSystem(f"EPSG:{code}")
    raise InvalidInput.one(
        field, "known-crs", f"unknown coordinate system {value!r}; accepted: {ACCEPTED}"
    )


def _floats(x: ArrayLike) -> Floats:
    return np.asarray(x, dtype=np.float64)


def in_china_box(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Where GCJ-02 shifts points: a rough box, as in every public copy of the algorithm."""
    x, y = _floats(lon), _floats(lat)
    west, south, east, north = _CHINA_BOX
    return (x > west) & (x < east) & (y > south) & (y < north)


def _transform_lat(x: Floats, y: Floats) -> Floats:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: Floats, y: Floats) -> Floats:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _floats(lon), _floats(lat)
    dlat = _transform_lat(x - 105.0, y - 35.0)
    dlon = _transform_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china_box(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def _invert(
    forward: Callable[[Floats, Floats], tuple[Floats, Floats]],
    first_guess: tuple[Floats, Floats],
    target: tuple[Floats, Floats],
) -> tuple[Floats, Floats]:
    """Solve ``forward(p) = target`` by fixed-point steps; the offsets vary slowly, so each
    step gains about five orders of magnitude and two or three steps reach the tolerance."""
    tx, ty = target
    x, y = first_guess[0].copy(), first_guess[1].copy()
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x -= ex
        y -= ey
        if ex.size == 0 or max(float(np.max(np.abs(ex))), float(np.max(np.abs(ey)))) < (
            _INVERSE_TOLERANCE
        ):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _floats(lon), _floats(lat)
    fx, fy = wgs84_to_gcj02(x, y)
    guess = (x - (fx - x), y - (fy - y))
    wx, wy = _invert(wgs84_to_gcj02, guess, (x, y))
    inside = in_china_box(x, y)
    return np.where(inside, wx, x), np.where(inside, wy, y)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _floats(lon), _floats(lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(x: Floats, y: Floats) -> tuple[Floats, Floats]:
    x, y = x - 0.0065, y - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _floats(lon), _floats(lat)
    return _invert(gcj02_to_bd09, _bd09_to_gcj02_approx(x, y), (x, y))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: CoordinateSystem) -> tuple[Floats, Floats]:
    """Coordinates (x, y order, as GeoJSON) in ``crs`` → WGS84 longitude, latitude."""
    if crs.name == WGS84:
        return _floats(lon).copy(), _floats(lat).copy()
    if crs.name == GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if crs.name == BD09:
        return bd09_to_wgs84(lon, lat)
    x, y = _transformer(crs.name, "EPSG:4326").transform(_floats(lon), _floats(lat))
    return _floats(x), _floats(y)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: CoordinateSystem) -> tuple[Floats, Floats]:
    """WGS84 → ``crs``; e.g. to draw stored shapes on an AMap base map (GCJ-02)."""
    if crs.name == WGS84:
        return _floats(lon).copy(), _floats(lat).copy()
    if crs.name == GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if crs.name == BD09:
        return wgs84_to_bd09(lon, lat)
    x, y = _transformer("EPSG:4326", crs.name).transform(_floats(lon), _floats(lat))
    return _floats(x), _floats(y)


def geometry_to_wgs84(geometry: Any, crs: CoordinateSystem) -> Any:
    """A shapely geometry (or array of them) in ``crs`` → the same shape(s) in WGS84."""
    if crs.is_wgs84:
        return geometry

    def convert(coords: Floats) -> Floats:
        x, y = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geometry, convert)


# A global equal-area projection: areas of small and large polygons alike come out in m².
_EQUAL_AREA = "EPSG:6933"


def area_m2(geometries: Any) -> Floats:
    """Areas in square metres of WGS84 geometries (one value per geometry)."""
    transformer = _transformer("EPSG:4326", _EQUAL_AREA)

    def project(coords: Floats) -> Floats:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    projected = shapely.transform(np.asarray(geometries, dtype=object), project)
    return np.asarray(shapely.area(projected), dtype=np.float64)
