"""The CSV mapping: its checks, and how rows become historical cases or refusals."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onegrid.cases.csvmapping import parse_mapping, read_cases
from onegrid.cases.domain.states import Channel
from onegrid.cases.importing import HistoricalCase
from onegrid.core.errors import FieldProblem, InvalidInput

MAPPING = {
    "source": "t",
    "timezone": "America/New_York",
    "channel": "hotline",
    "columns": {
        "id": "key",
        "created_at": "opened",
        "closed_at": "closed",
        "type": "kind",
        "lon": "x",
        "lat": "y",
        "department": "agency",
        "detail": "what",
    },
    "categories": {"Noise": "E0801"},
}
CSV = (
    "key,opened,closed,kind,what,agency,x,y\n"
    "1,2026-05-01T10:00:00.000,2026-05-01T12:30:00.000,Noise,Loud music,NYPD,-73.9,40.7\n"
    "2,2026-05-01T10:00:00,,Rodent,Rats,DOHMH,-73.9,40.7\n"
    "3,2026-05-01T10:00:00,,Noise,,NYPD,,\n"
    "4,2026-05-01T10:00:00,2026-05-01T09:00:00,Noise,,NYPD,-73.9,40.7\n"
)


def test_a_mapping_names_its_required_columns() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_mapping({"columns": {"id": "key"}, "timezone": "Nowhere/Land"})
    assert {p.rule for p in caught.value.problems} == {"required_columns", "known_timezone"}


def test_rows_become_cases_or_named_refusals(tmp_path: Path) -> None:
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode()))
    items = list(read_cases(path, parse_mapping(MAPPING)))
    first = items[0]
    assert isinstance(first, HistoricalCase)
    assert first.created_at.astimezone(UTC) == datetime(2026, 5, 1, 14, tzinfo=UTC)  # EDT
    assert first.closed_at is not None and (first.closed_at - first.created_at).seconds == 9000
    assert (first.category_code, first.external_ref, first.department_code) == (
        "E0801",
        "t:1",
        "NYPD",
    )
    assert first.description == "Noise / Loud music" and first.channel is Channel.HOTLINE
    refused = [i for i in items if isinstance(i, FieldProblem)]
    assert [(p.record, p.rule) for p in refused] == [
        ("line 3 (2)", "mapped_type"),
        ("line 4 (3)", "coordinates_required"),
        ("line 5 (4)", "closed_after_created"),
    ]


def test_a_default_category_catches_unlisted_types(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV)
    mapping = parse_mapping({**MAPPING, "default_category": "e0902"})
    kinds = [i.category_code for i in read_cases(path, mapping) if isinstance(i, HistoricalCase)]
    assert kinds == ["E0801", "E0902"]


def test_a_missing_column_is_refused_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("key,opened\n1,2026-05-01T10:00:00\n")
    with pytest.raises(InvalidInput, match="has no column"):
        list(read_cases(path, parse_mapping(MAPPING)))
