"""Reading another system's case export (CSV, optionally gzipped) with a column mapping file.

The mapping file (YAML) names the source columns and maps the source's types to categories::

    name: NYC 311 service requests
    source: nyc311                      # external_ref = "nyc311:<id>"
    timezone: America/New_York          # the export's local times
    channel: hotline
    nature: complaint
    use_grid: false                     # keep points the city's grid does not cover
    columns: {id: unique_key, created_at: created_date, closed_at: closed_date,
              type: complaint_type, detail: descriptor, department: agency,
              lon: longitude, lat: latitude, address: incident_zip}
    categories: {"Noise - Residential": E0801, ...}
    default_category: E0902             # for types the table does not list (or omit: refuse)

Rows are refused, each with its line number and rule, when they have no usable creation time,
no coordinates, or a closing time before their creation.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onegrid.cases.domain.states import Channel, Nature
from onegrid.cases.importing import HistoricalCase
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.yamlfile import read_yaml

_REQUIRED = ("id", "created_at", "type", "lon", "lat")


@dataclass(frozen=True)
class CsvMapping:
    name: str
    source: str
    timezone: ZoneInfo
    channel: Channel
    nature: Nature
    use_grid: bool
    columns: dict[str, str]
    categories: dict[str, str]
    default_category: str | None

    def category_for(self, source_type: str) -> str | None:
        return self.categories.get(source_type, self.default_category)


def read_mapping(path: Path) -> CsvMapping:
    return parse_mapping(read_yaml(path, "mapping"))


def parse_mapping(data: dict[str, Any]) -> CsvMapping:
    problems: list[FieldProblem] = []
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    missing = [k for k in _REQUIRED if k not in columns]
    if missing:
        problems.append(
            FieldProblem(
                "columns",
                "required_columns",
                f"the mapping must name the columns {', '.join(missing)}",
            )
        )
    try:
        tz = ZoneInfo(str(data.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(FieldProblem("timezone", "known_timezone", "unknown time zone"))
        tz = ZoneInfo("UTC")
    try:
        channel = Channel(str(data.get("channel", "hotline")))
        nature = Nature(str(data.get("nature", "report")))
    except ValueError as exc:
        problems.append(FieldProblem("channel", "known_value", str(exc)))
        channel, nature = Channel.HOTLINE, Nature.REPORT
    categories = {str(k): str(v).strip().upper() for k, v in (data.get("categories") or {}).items()}
    if problems:
        raise InvalidInput(problems)
    default = data.get("default_category")
    return CsvMapping(
        name=str(data.get("name", "")),
        source=str(data.get("source", "import")),
        timezone=tz,
        channel=channel,
        nature=nature,
        use_grid=bool(data.get("use_grid", True)),
        columns=columns,
        categories=categories,
        default_category=str(default).strip().upper() if default else None,
    )


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", newline="")


def _when(text: str, tz: ZoneInfo) -> datetime | None:
    if not text.strip():
        return None
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def _row_case(row: dict[str, str], m: CsvMapping, line: int) -> HistoricalCase:
    col = m.columns
    ref = row.get(col["id"], "").strip()
    record = f"line {line}" + (f" ({ref})" if ref else "")

    def refuse(field: str, rule: str, message: str) -> InvalidInput:
        return InvalidInput(FieldProblem(field, rule, message, record))

    try:
        created = _when(row.get(col["created_at"], ""), m.timezone)
        closed = _when(row.get(col.get("closed_at", ""), ""), m.timezone)
    except ValueError:
        raise refuse("created_at", "datetime", "not an ISO date and time") from None
    if created is None:
        raise refuse("created_at", "required", "no creation time")
    if closed is not None and closed < created:
        raise refuse("closed_at", "closed_after_created", "closed before it was created")
    try:
        lon, lat = float(row.get(col["lon"], "")), float(row.get(col["lat"], ""))
    except ValueError:
        raise refuse("lon", "coordinates_required", "a case needs a location") from None
    source_type = row.get(col["type"], "").strip()
    category = m.category_for(source_type)
    if category is None:
        raise refuse("type", "mapped_type", f"type {source_type!r} is not in the mapping")
    detail = row.get(col.get("detail", ""), "").strip()
    return HistoricalCase(
        category_code=category,
        created_at=created,
        lon=lon,
        lat=lat,
        description=" / ".join(t for t in (source_type, detail) if t) or source_type,
        channel=m.channel,
        nature=m.nature,
        address=row.get(col.get("address", ""), "").strip(),
        external_ref=f"{m.source}:{ref}" if ref else None,
        source_type=source_type[:120],
        department_code=row.get(col.get("department", ""), "").strip()[:32] or None,
        closed_at=closed,
    )


def read_cases(path: Path, m: CsvMapping) -> Iterator[HistoricalCase | FieldProblem]:
    """Each data row as a case, or the problem that keeps it out."""
    with _open_text(path) as text:
        reader = csv.DictReader(text)
        header = set(reader.fieldnames or ())
        absent = sorted(v for v in m.columns.values() if v not in header)
        if absent:
            raise InvalidInput.one(
                "columns", "columns_in_file", f"{path.name} has no column(s) {', '.join(absent)}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                yield _row_case(row, m, line)
            except InvalidInput as exc:
                yield exc.problems[0]
