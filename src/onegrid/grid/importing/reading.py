"""Turn a boundary file into numbered features: GeoJSON with the standard library, Shapefile,
GeoPackage and the other OGR formats with pyogrio.

Problems with the file as a whole (not UTF-8, not JSON, unknown format) are raised at once;
problems with one feature are left to the checks, which know whether to skip or refuse.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import shape

from onegrid.core.errors import InvalidInput

_GEOJSON = {".geojson", ".json"}
_OGR = {".shp", ".gpkg", ".fgb", ".kml", ".gml", ".zip"}
FORMATS = "GeoJSON (.geojson/.json), Shapefile (.shp), GeoPackage (.gpkg), FlatGeobuf (.fgb)"


@dataclass(frozen=True)
class SourceFeature:
    """One feature as read: its 1-based number in the file, its properties and geometry.

    ``geometry`` is None when the feature has none or it could not be read; ``geometry_error``
    then says why. ``open_ring`` names a ring the file left open (Shapely closed it on reading).
    """

    number: int
    properties: dict[str, Any]
    geometry: Any
    geometry_error: str | None = None
    open_ring: str | None = None


@dataclass(frozen=True)
class SourceFile:
    path: str
    features: list[SourceFeature]
    declared_crs: str | None = None


def read_features(path: Path, encoding: str | None = None) -> SourceFile:
    if not path.is_file():
        raise InvalidInput.one("file", "file-exists", f"{path} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix in _GEOJSON:
        return _read_geojson(path)
    if suffix in _OGR:
        return _read_ogr(path, encoding)
    raise InvalidInput.one(
        "file", "known-format", f"{path.name}: unknown format {suffix!r}; accepted: {FORMATS}"
    )


def _decode_utf8(name: str, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput.one(
            "file", "utf8-encoding", f"{name} is UTF-16; GeoJSON must be UTF-8 (RFC 7946 §11)"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            raw.decode("gb18030")
            hint = (
                "; it reads as GBK/GB18030 — convert it first, e.g. "
                f"`iconv -f GB18030 -t UTF-8 {name}`"
            )
        except UnicodeDecodeError:
            pass
        raise InvalidInput.one(
            "file",
            "utf8-encoding",
            f"{name} is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            f"GeoJSON must be UTF-8 (RFC 7946 §11){hint}",
        ) from None


def _read_geojson(path: Path) -> SourceFile:
    return read_geojson_bytes(str(path), path.read_bytes())


def read_geojson_bytes(name: str, raw: bytes) -> SourceFile:
    """A GeoJSON document already in memory (an upload); ``name`` is how problems refer to it."""
    short = Path(name).name or name
    text = _decode_utf8(short, raw)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput.one(
            "file",
            "geojson-syntax",
            f"{short} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        raw_features: list[Any] = [doc]
    elif kind == "FeatureCollection" and isinstance(doc.get("features"), list):
        raw_features = doc["features"]
    else:
        raise InvalidInput.one(
            "file", "geojson-type", f"{short}: expected a FeatureCollection, got {kind!r}"
        )
    features = [_geojson_feature(i, f) for i, f in enumerate(raw_features, start=1)]
    return SourceFile(name, features, _declared_geojson_crs(doc))


def _declared_geojson_crs(doc: dict[str, Any]) -> str | None:
    """The legacy (pre-RFC 7946) ``crs`` member that ogr2ogr still writes, if present."""
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        if isinstance(name, str):
            return name
    return None


def _geojson_feature(number: int, raw: Any) -> SourceFeature:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        return SourceFeature(number, {}, None, "not a GeoJSON Feature object")
    props = raw.get("properties") or {}
    geometry = raw.get("geometry")
    if not geometry:
        return SourceFeature(number, props, None, "the feature has no geometry")
    try:
        return SourceFeature(number, props, shape(geometry), open_ring=_open_ring(geometry))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException) as exc:
        return SourceFeature(number, props, None, f"unreadable geometry: {exc}")


def _open_ring(geometry: Any) -> str | None:
    """The first ring whose last position does not repeat its first, which RFC 7946 §3.1.6
    requires: Shapely closes such a ring without a word, so the file's error would go unseen."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        parts = [coordinates]
    elif kind == "MultiPolygon":
        parts = coordinates
    else:
        return None
    for p, rings in enumerate(parts, start=1):
        for r, ring in enumerate(rings, start=1):
            if ring and list(ring[0]) != list(ring[-1]):
                where = f"ring {r}" + (f" of polygon {p}" if kind == "MultiPolygon" else "")
                return f"{where} is not closed: its last position must repeat its first"
    return None


def _read_ogr(path: Path, encoding: str | None) -> SourceFile:
    import pyogrio
    import pyogrio.errors

    try:
        meta, _fids, wkb, columns = pyogrio.raw.read(path, encoding=encoding)
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput.one("file", "readable", f"{path.name}: {exc}") from None
    names = [str(n) for n in meta["fields"]]
    count = len(wkb) if wkb is not None else (len(columns[0]) if columns else 0)
    geometries = shapely.from_wkb(wkb) if wkb is not None else [None] * count
    features = []
    for i, geometry in enumerate(geometries):
        props = {name: _plain(col[i]) for name, col in zip(names, columns, strict=True)}
        error = None if geometry is not None else "the feature has no geometry"
        features.append(SourceFeature(i + 1, props, geometry, error))
    if encoding is None:
        _check_declared_encoding(path, str(meta.get("encoding") or ""), features)
    return SourceFile(str(path), features, _ogr_crs_name(meta.get("crs")))


def _check_declared_encoding(path: Path, detected: str, features: list[SourceFeature]) -> None:
    """A Shapefile without a .cpg may be in any code page; GDAL then guesses Latin-1 and turns
    Chinese names into mojibake without complaint, so non-ASCII text read under a guessed
    encoding is refused until the encoding is given."""
    if path.suffix.lower() != ".shp" or detected.upper().replace("-", "") == "UTF8":
        return
    if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return
    for feature in features:
        for value in feature.properties.values():
            if isinstance(value, str) and not value.isascii():
                raise InvalidInput.one(
                    "encoding",
                    "declared-encoding",
                    f"{path.name}: feature {feature.number} has non-ASCII text but no .cpg file "
                    f"names the encoding (GDAL guessed {detected or 'ISO-8859-1'}); "
                    "pass it, e.g. --encoding GB18030",
                )


def _plain(value: Any) -> Any:
    """numpy scalars → Python values; NaN (a missing number in a .dbf) → None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _ogr_crs_name(crs: str | None) -> str | None:
    if not crs:
        return None
    try:
        epsg = CRS.from_user_input(crs).to_epsg()
    except CRSError:
        return crs
    return f"EPSG:{epsg}" if epsg else crs
