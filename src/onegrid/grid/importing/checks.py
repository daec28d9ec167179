"""Checks every boundary import shares: codes, geometry validity, coordinate system, versions.

Each problem names the feature (its number in the file and its code) and the rule it breaks, so
a user can find and fix it in the source file.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import shapely

from onegrid.core.errors import FieldProblem
from onegrid.grid.crs import CoordinateSystem, geometry_to_wgs84, parse_crs
from onegrid.grid.importing.reading import SourceFeature

_POLYGONAL = ("Polygon", "MultiPolygon")
_VALID = "Valid Geometry"


class OnError(StrEnum):
    REFUSE = "refuse"
    SKIP = "skip"


class Change(StrEnum):
    CREATE = "create"
    VERSION = "version"
    CORRECT = "correct"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FeatureProblem(FieldProblem):
    """A broken rule of one feature of a file. ``record`` says where in English; a page in
    another language words it from ``feature_index`` (1-based) and ``feature_code``."""

    feature_index: int | None = None
    feature_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return super().as_dict() | {
            "feature_index": self.feature_index,
            "feature_code": self.feature_code,
        }


@dataclass(frozen=True)
class Place:
    """Where a feature is in its file: its number (from 1) and its code, if it has one."""

    number: int
    code: str | None

    @property
    def record(self) -> str:
        return f"feature {self.number}" + (f" (code {self.code})" if self.code else "")

    def problem(self, field: str, rule: str, message: str) -> FeatureProblem:
        return FeatureProblem(field, rule, message, self.record, self.number, self.code)


def text_value(value: Any) -> str | None:
    """A property as text: ``110101`` and ``110101.0`` both become ``"110101"``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def csv_rows(
    lines: Iterable[str], columns: Sequence[str], optional: str = ""
) -> tuple[csv.DictReader[str], list[FieldProblem]]:
    """A CSV reader whose header names are stripped, and one problem per required column the
    header lacks (``optional`` is how the message shows the columns a file may add)."""
    reader = csv.DictReader(lines)
    header = [h.strip() for h in reader.fieldnames or []]
    needs = f"{', '.join(columns)}{optional}"
    problems = [
        FieldProblem(c, "required-column", f"the file has no column {c} (needs {needs})")
        for c in columns
        if c not in header
    ]
    reader.fieldnames = header
    return reader, problems


def resolve_crs(option: str | None, declared: str | None) -> CoordinateSystem:
    """The ``--crs`` given wins (GCJ-02 cannot be declared in a file); else what the file
    declares; else WGS84, the only CRS RFC 7946 GeoJSON may use."""
    if option:
        return parse_crs(option)
    if declared:
        return parse_crs(declared, field="file crs")
    return parse_crs("wgs84")


@dataclass(frozen=True)
class CodedFeature:
    feature: SourceFeature
    code: str


def read_codes(
    features: Sequence[SourceFeature], code_field: str
) -> tuple[list[CodedFeature], list[FieldProblem]]:
    """Every feature needs a code, and no two features may share one."""
    problems: list[FieldProblem] = []
    coded: list[CodedFeature] = []
    for feature in features:
        code = text_value(feature.properties.get(code_field))
        if code is None:
            problems.append(
                Place(feature.number, None).problem(
                    code_field, "code-required", f"property {code_field!r} is missing or empty"
                )
            )
        else:
            coded.append(CodedFeature(feature, code))
    counts = Counter(c.code for c in coded)
    unique: list[CodedFeature] = []
    for c in coded:
        if counts[c.code] == 1:
            unique.append(c)
            continue
        numbers = [x.feature.number for x in coded if x.code == c.code]
        problems.append(
            Place(c.feature.number, c.code).problem(
                code_field,
                "code-unique",
                f"code {c.code} appears in features {', '.join(map(str, numbers))}",
            )
        )
    return unique, problems


@dataclass
class GeometryCheck:
    """The WGS84 geometry of every feature that passed, by code; what failed; what was repaired."""

    geometries: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)
    repairs: list[FieldProblem] = field(default_factory=list)


def _polygon_problem(c: CodedFeature) -> FieldProblem | None:
    f = c.feature
    place = Place(f.number, c.code)
    if f.geometry is None:
        return place.problem("geometry", "geometry-readable", f.geometry_error or "none")
    if f.geometry.geom_type not in _POLYGONAL or f.geometry.is_empty:
        kind = "an empty geometry" if f.geometry.is_empty else f"a {f.geometry.geom_type}"
        return place.problem(
            "geometry", "polygon-geometry", f"expected a (Multi)Polygon, got {kind}"
        )
    return None


def _ring_problem(c: CodedFeature, repair: bool, check: GeometryCheck) -> FieldProblem | None:
    """An open ring is refused like any invalid polygon; with ``repair`` it stays closed as
    read, and the closing is listed with the other repairs."""
    open_ring = c.feature.open_ring
    if open_ring is None:
        return None
    place = Place(c.feature.number, c.code)
    if repair:
        check.repairs.append(
            place.problem(
                "geometry", "closed-ring", f"{open_ring}; closed it by repeating its first position"
            )
        )
        return None
    return place.problem(
        "geometry",
        "closed-ring",
        f"invalid polygon: {open_ring} (RFC 7946 §3.1.6); fix the file, or pass --repair to "
        "close it",
    )


def _repair(geometry: Any, reason: str, place: Place, check: GeometryCheck) -> Any:
    """GEOS ``make_valid`` keeping polygons only; the repair and its effect on the area are
    reported, so a user who asked for repairs can still see what changed."""
    fixed = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    if fixed.is_empty or fixed.geom_type not in _POLYGONAL:
        check.problems.append(
            place.problem("geometry", "valid-geometry", f"cannot be repaired: {reason}")
        )
        return None
    change = (fixed.area - geometry.area) / geometry.area * 100 if geometry.area else 0.0
    check.repairs.append(
        place.problem(
            "geometry", "valid-geometry", f"repaired {reason}; area changed by {change:+.4f} %"
        )
    )
    return fixed


def _in_range(box: Any) -> bool:
    return bool(-180 <= box[0] <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90)


def check_geometries(
    coded: Sequence[CodedFeature], crs: CoordinateSystem, *, repair: bool = False
) -> GeometryCheck:
    """Polygons only, valid (OGC rules, checked with GEOS), converted to WGS84 and in range.

    An invalid polygon is refused naming the GEOS reason (e.g. ``Self-intersection[x y]``),
    unless ``repair`` is set: then it is made valid and the repair is reported.
    """
    check = GeometryCheck()
    candidates: list[CodedFeature] = []
    for c in coded:
        problem = _polygon_problem(c) or _ring_problem(c, repair, check)
        if problem:
            check.problems.append(problem)
        else:
            candidates.append(c)
    if not candidates:
        return check
    source = np.array([c.feature.geometry for c in candidates], dtype=object)
    reasons = shapely.is_valid_reason(source)
    for i, (c, reason) in enumerate(zip(candidates, reasons, strict=True)):
        if reason == _VALID:
            continue
        place = Place(c.feature.number, c.code)
        if repair:
            source[i] = _repair(source[i], reason, place, check)
        else:
            check.problems.append(place.problem("geometry", "valid-geometry", _invalid(reason)))
            source[i] = None
    kept = [c for c, g in zip(candidates, source, strict=True) if g is not None]
    converted = geometry_to_wgs84(np.array([g for g in source if g is not None], dtype=object), crs)
    for c, geometry in zip(kept, converted, strict=True):
        _accept_converted(c, geometry, crs, repair, check)
    return check


def _accept_converted(
    c: CodedFeature, geometry: Any, crs: CoordinateSystem, repair: bool, check: GeometryCheck
) -> None:
    """A converted geometry must be longitude/latitude and still valid (a conversion can make
    two close edges touch)."""
    place = Place(c.feature.number, c.code)
    box = geometry.bounds
    if not _in_range(box):
        check.problems.append(
            place.problem(
                "geometry",
                "coordinates-in-range",
                f"coordinates ({box[0]:.6g}, {box[1]:.6g}) are not longitude/latitude after "
                f"converting from {crs.name}; is --crs right (a projected file needs its "
                "EPSG code)?",
            )
        )
        return
    reason = shapely.is_valid_reason(geometry)
    if reason != _VALID:
        where = f"after converting from {crs.name} to WGS84: {reason}"
        if not repair:
            check.problems.append(place.problem("geometry", "valid-geometry", _invalid(where)))
            return
        geometry = _repair(geometry, where, place, check)
    if geometry is not None:
        check.geometries[c.code] = geometry


def _invalid(reason: str) -> str:
    return (
        f"invalid polygon: {reason} (GEOS validity: rings closed and simple, holes inside "
        "their shell, parts not overlapping); fix the file, or pass --repair to apply GEOS "
        "make_valid"
    )


@dataclass(frozen=True)
class Existing:
    """The latest stored version of a code, to decide what a re-import means for it."""

    id: int
    valid_from: date
    valid_to: date | None
    geometry: Any
    keys: tuple[Any, ...]
    """Fields whose change makes a new version (e.g. the parent), besides the geometry."""
    attributes: tuple[Any, ...]
    """Fields corrected in place (names, population)."""


def same_shape(a: Any, b: Any) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-9))


def decide(
    existing: Existing | None,
    geometry: Any,
    keys: tuple[Any, ...],
    attributes: tuple[Any, ...],
    valid_from: date,
) -> Change | str:
    """What importing this feature does to the stored history, or why it cannot."""
    if existing is None:
        return Change.CREATE
    if existing.valid_to is not None and existing.valid_to <= valid_from:
        return Change.CREATE
    if valid_from < existing.valid_from:
        return (
            f"the stored version starts on {existing.valid_from}; a new version must not start "
            f"earlier (got {valid_from})"
        )
    if same_shape(existing.geometry, geometry) and existing.keys == keys:
        return Change.UNCHANGED if existing.attributes == attributes else Change.UPDATE
    return Change.CORRECT if existing.valid_from == valid_from else Change.VERSION
