"""What a file of standard addresses means: CSV rows ``id,address,lon,lat[,crs]`` or GeoJSON
points with ``id`` and ``address`` properties, each checked before anything is written.

Pure functions: the service locates the points and looks up the stored register, and passes
them in. Every problem names the line (or feature), the address id, the field and the rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np

from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.text import control_problems, refused_character
from onegrid.grid.addresses import (
    ADDRESS_ID_MAX,
    ADDRESS_TEXT_MAX,
    StandardAddress,
    normalise_address,
)
from onegrid.grid.crs import CoordinateSystem, parse_crs, to_wgs84
from onegrid.grid.importing.checks import csv_rows, resolve_crs, text_value
from onegrid.grid.importing.reading import SourceFile, read_features

COLUMNS = ("id", "address", "lon", "lat")
# Two imports of one point agree to far better than a door plate's size (1e-7° ≈ 1 cm).
SAME_POINT = 1e-7


@dataclass(frozen=True)
class AddressDraft:
    """A row as read: its point still in the coordinate system it came in."""

    record: str
    address_id: str
    text: str
    normalised: str
    x: float
    y: float
    crs: CoordinateSystem


@dataclass(frozen=True)
class PlacedAddress:
    """A row converted to WGS84 and located in the grid of its first day."""

    draft: AddressDraft
    lon: float
    lat: float
    unit_grid: str | None
    area_code: str | None


class AddressChange(StrEnum):
    CREATE = "create"
    CORRECT = "correct"  # the stored version starts the same day: changed in place
    VERSION = "version"  # the stored version is closed the day before, a new one starts
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PlannedAddress:
    placed: PlacedAddress
    change: AddressChange
    stored_row: int | None


def _record(where: str, address_id: str | None) -> str:
    if not address_id:
        return where
    # A control character is shown escaped, not carried into the report.
    shown = repr(address_id) if refused_character(address_id) else address_id
    return f"{where} (address {shown})"


def _coordinate(name: str, raw: str | None, record: str) -> float | FieldProblem:
    text = (raw or "").strip()
    try:
        value = float(text)
    except ValueError:
        return FieldProblem(name, "number", f"{name} {text!r} is not a number", record)
    if not math.isfinite(value):
        return FieldProblem(name, "number", f"{name} {text!r} is not a finite number", record)
    return value


def _own_crs(raw: str | None, default: CoordinateSystem, record: str) -> CoordinateSystem:
    text = (raw or "").strip()
    if not text:
        return default
    try:
        return parse_crs(text)
    except InvalidInput as exc:
        problem = exc.problems[0]
        raise InvalidInput(FieldProblem("crs", problem.rule, problem.message, record)) from None


def _draft(
    where: str,
    address_id: str | None,
    text: str | None,
    coordinates: tuple[float | FieldProblem, float | FieldProblem],
    crs: CoordinateSystem,
) -> AddressDraft | list[FieldProblem]:
    record = _record(where, address_id)
    problems: list[FieldProblem] = []
    if address_id is None:
        problems.append(FieldProblem("id", "required", "the address id is empty", record))
    elif len(address_id) > ADDRESS_ID_MAX or any(c.isspace() for c in address_id):
        problems.append(
            FieldProblem(
                "id",
                "address-id-format",
                f"an address id is at most {ADDRESS_ID_MAX} characters, without spaces",
                record,
            )
        )
    normalised = normalise_address(text or "")
    if not normalised:
        problems.append(FieldProblem("address", "required", "the address text is empty", record))
    elif len(text or "") > ADDRESS_TEXT_MAX:
        problems.append(
            FieldProblem(
                "address",
                "max-length",
                f"an address is at most {ADDRESS_TEXT_MAX} characters",
                record,
            )
        )
    elif len(normalised) > ADDRESS_TEXT_MAX:
        # NFKC lengthens some characters (㍿ is 株式会社), and the normalised form is stored too.
        problems.append(
            FieldProblem(
                "address",
                "max-length",
                f"an address is at most {ADDRESS_TEXT_MAX} characters once normalised; this "
                f"one is {len(normalised)} (characters such as ㍿ unfold into several)",
                record,
            )
        )
    problems += [
        replace(p, record=record) for p in control_problems([("id", address_id), ("address", text)])
    ]
    problems += [c for c in coordinates if isinstance(c, FieldProblem)]
    if problems:
        return problems
    x, y = coordinates
    assert address_id is not None and text is not None
    assert isinstance(x, float) and isinstance(y, float)
    return AddressDraft(record, address_id, text.strip(), normalised, x, y, crs)


def read_address_csv(
    lines: Iterable[str], crs: CoordinateSystem
) -> tuple[list[AddressDraft], list[FieldProblem]]:
    """The good rows of a CSV text and the problems of the bad ones. A row's own ``crs``
    column wins over ``crs``, the file's."""
    reader, missing = csv_rows(lines, COLUMNS, "[,crs]")
    if missing:
        return [], missing
    drafts: list[AddressDraft] = []
    problems: list[FieldProblem] = []
    for raw in reader:
        where = f"line {reader.line_num}"
        address_id = text_value(raw.get("id"))
        record = _record(where, address_id)
        try:
            own = _own_crs(raw.get("crs"), crs, record)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        coordinates = (
            _coordinate("lon", raw.get("lon"), record),
            _coordinate("lat", raw.get("lat"), record),
        )
        got = _draft(where, address_id, raw.get("address"), coordinates, own)
        if isinstance(got, list):
            problems += got
        else:
            drafts.append(got)
    return _unique(drafts, problems)


def read_address_features(
    source: SourceFile, crs: CoordinateSystem, id_field: str = "id", address_field: str = "address"
) -> tuple[list[AddressDraft], list[FieldProblem]]:
    """The good points of a GeoJSON (or other OGR) file and the problems of the bad ones."""
    drafts: list[AddressDraft] = []
    problems: list[FieldProblem] = []
    for f in source.features:
        where = f"feature {f.number}"
        address_id = text_value(f.properties.get(id_field))
        record = _record(where, address_id)
        geometry = f.geometry
        if geometry is None or geometry.geom_type != "Point" or geometry.is_empty:
            kind = f.geometry_error or ("an empty point" if geometry is not None else "no geometry")
            if geometry is not None and geometry.geom_type != "Point":
                kind = f"a {geometry.geom_type}"
            problems.append(
                FieldProblem("geometry", "point-geometry", f"expected a Point, got {kind}", record)
            )
            continue
        coordinates = (float(geometry.x), float(geometry.y))
        got = _draft(
            where, address_id, text_value(f.properties.get(address_field)), coordinates, crs
        )
        if isinstance(got, list):
            problems += got
        else:
            drafts.append(got)
    return _unique(drafts, problems)


def _unique(
    drafts: list[AddressDraft], problems: list[FieldProblem]
) -> tuple[list[AddressDraft], list[FieldProblem]]:
    """An id names one address and an address has one id: a second row with either is refused,
    naming the first."""
    by_id: dict[str, str] = {}
    by_text: dict[str, str] = {}
    kept: list[AddressDraft] = []
    for d in drafts:
        if d.address_id in by_id:
            problems.append(
                FieldProblem(
                    "id",
                    "address-id-unique",
                    f"id {d.address_id} is also {by_id[d.address_id]}",
                    d.record,
                )
            )
            continue
        if d.normalised in by_text:
            problems.append(
                FieldProblem(
                    "address",
                    "address-unique",
                    f"the same address as {by_text[d.normalised]} (they differ only in width, "
                    "case, spaces or punctuation)",
                    d.record,
                )
            )
            continue
        by_id[d.address_id] = d.record
        by_text[d.normalised] = d.record
        kept.append(d)
    if not kept and not problems:
        problems.append(FieldProblem("file", "rows-required", "the file has no rows"))
    return kept, problems


def read_address_file(
    path: Path, crs: str | None = None, *, id_field: str = "id", address_field: str = "address"
) -> tuple[list[AddressDraft], list[FieldProblem]]:
    """A CSV (``.csv``, UTF-8) or a GeoJSON/OGR file of points. ``crs``: the file's coordinate
    system (wgs84, gcj02, bd09, EPSG:…); default what a GeoJSON declares, else WGS84. The
    fields name a point's properties (a CSV's columns are always ``id,address,lon,lat``)."""
    if path.suffix.lower() != ".csv":
        source = read_features(path)
        return read_address_features(
            source, resolve_crs(crs, source.declared_crs), id_field, address_field
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput.one("file", "file-exists", f"cannot read {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput.one(
            "file",
            "utf8-encoding",
            f"{path.name} is not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); convert it first, e.g. `iconv -f GB18030 -t UTF-8 {path.name}`",
        ) from None
    return read_address_csv(text.splitlines(), resolve_crs(crs, None))


def to_wgs84_points(drafts: list[AddressDraft]) -> tuple[np.ndarray, np.ndarray]:
    """Every draft's point in WGS84, converted in one pass per coordinate system."""
    lon = np.empty(len(drafts), dtype=np.float64)
    lat = np.empty(len(drafts), dtype=np.float64)
    for crs in {d.crs for d in drafts}:
        index = np.array([i for i, d in enumerate(drafts) if d.crs == crs], dtype=np.intp)
        x, y = to_wgs84([drafts[i].x for i in index], [drafts[i].y for i in index], crs)
        lon[index], lat[index] = x, y
    return lon, lat


def plan_addresses(
    placed: list[PlacedAddress],
    valid_from: date,
    stored: Mapping[str, tuple[int, StandardAddress]],
    taken: Mapping[str, str],
) -> tuple[list[PlannedAddress], list[FieldProblem]]:
    """Each row against the latest stored version of its id (``stored``: row id and address)
    and the register's other ids (``taken``: normalised text → the id that has it, among the
    addresses not in the file that are valid on or after ``valid_from``)."""
    planned: list[PlannedAddress] = []
    problems: list[FieldProblem] = []
    for p in placed:
        d = p.draft
        owner = taken.get(d.normalised)
        if owner is not None and owner != d.address_id:
            problems.append(
                FieldProblem(
                    "address",
                    "address-unique",
                    f"the register already has this address as id {owner}",
                    d.record,
                )
            )
            continue
        found = stored.get(d.address_id)
        change = _change(p, valid_from, found[1] if found else None)
        if isinstance(change, FieldProblem):
            problems.append(change)
            continue
        planned.append(PlannedAddress(p, change, found[0] if found else None))
    return planned, problems


def _change(
    p: PlacedAddress, valid_from: date, old: StandardAddress | None
) -> AddressChange | FieldProblem:
    if old is None or (old.valid_to is not None and old.valid_to <= valid_from):
        return AddressChange.CREATE
    if valid_from < old.valid_from:
        return FieldProblem(
            "valid_from",
            "valid-from-order",
            f"the stored version starts on {old.valid_from}; a new version must not start "
            f"earlier (got {valid_from})",
            p.draft.record,
        )
    same = (
        old.text == p.draft.text
        and abs(old.lon - p.lon) < SAME_POINT
        and abs(old.lat - p.lat) < SAME_POINT
        and (old.unit_grid, old.area_code) == (p.unit_grid, p.area_code)
    )
    if same:
        return AddressChange.UNCHANGED
    return AddressChange.CORRECT if old.valid_from == valid_from else AddressChange.VERSION
