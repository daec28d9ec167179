"""Department datasets: declared columns, all-or-nothing import, permissions, open-data files."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onegrid.analytics.datasets import Catalogue, DatasetSpec, may_read, parse_spec
from onegrid.analytics.opendata import OpenData, dataset_extract
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, NotFound, PermissionDenied
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.support import shared_file

CLOCK = FixedClock(datetime(2026, 11, 30, 4, tzinfo=UTC))
NYC_COLUMNS: list[dict[str, Any]] = [
    {"name": "unique_key", "type": "integer", "nullable": False},
    {"name": "created_date", "type": "timestamp", "nullable": False},
    {"name": "closed_date", "type": "timestamp"},
    {"name": "agency", "type": "string"},
    {"name": "complaint_type", "type": "string"},
    {"name": "descriptor", "type": "string"},
    {"name": "location_type", "type": "string"},
    {"name": "incident_zip", "type": "string", "personal": True},
    {"name": "city", "type": "string"},
    {"name": "borough", "type": "string"},
    {"name": "latitude", "type": "float"},
    {"name": "longitude", "type": "float"},
]
DISTRICT_COLUMNS: list[dict[str, Any]] = [
    {"name": "BoroCD", "type": "integer", "nullable": False},
    {"name": "Shape_Leng", "type": "float"},
    {"name": "Shape_Area", "type": "float"},
    {"name": "geometry", "type": "geometry", "nullable": False},
]


def nyc_spec(**extra: Any) -> DatasetSpec:
    raw = {
        "title": "NYC 311",
        "owner": "sanitation",
        "licence": "NYC Open Data Terms of Use",
        "lon": "longitude",
        "lat": "latitude",
        "columns": NYC_COLUMNS,
        **extra,
    }
    return parse_spec(raw)


def person(*grants: Grant, departments: tuple[str, ...] = ()) -> Principal:
    return Principal(1, "p", PrincipalKind.USER, grants, frozenset(departments))


def _head(tmp: Path, lines: int, edit: dict[int, tuple[str, str]] | None = None) -> Path:
    """The first ``lines`` data rows of the real NYC file, some cells replaced (row → column)."""
    frame = pd.read_csv(shared_file("nyc311_2026-04to06_100k.csv.gz"), dtype=str, nrows=lines)
    for row, (column, value) in (edit or {}).items():
        frame.loc[row - 1, column] = value
    path = tmp / "nyc.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.realdata
def test_a_real_csv_is_imported_whole_with_its_catalogue_entry(tmp_path: Path) -> None:
    src = shared_file("nyc311_2026-04to06_100k.csv.gz")
    cat = Catalogue(tmp_path / "datasets")
    entry = cat.import_file("nyc311", src, clock=CLOCK, spec=nyc_spec())
    expected = pd.read_csv(src, dtype=str)
    assert entry.rows == len(expected) == 100_000
    assert entry.lineage.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert entry.refreshed_at == CLOCK.now() and entry.version == 1
    table = pq.read_table(cat.data_path("nyc311"))
    assert table.schema.field("unique_key").type == pa.int64()
    assert table["unique_key"].to_pylist() == [int(k) for k in expected["unique_key"]]
    closed = expected["closed_date"].notna().sum()
    assert table["closed_date"].null_count == len(expected) - closed
    assert [e.name for e in cat.entries()] == ["nyc311"]
    again = cat.import_file("nyc311", src, clock=CLOCK)  # the spec is kept
    assert again.version == 2 and again.lineage.previous_version == 1


@pytest.mark.realdata
def test_a_bad_cell_names_its_row_and_column_and_nothing_changes(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path / "datasets")
    cat.import_file("nyc311", _head(tmp_path, 40), clock=CLOCK, spec=nyc_spec())
    bad = _head(tmp_path, 40, {17: ("latitude", "north-ish")})
    with pytest.raises(InvalidInput) as err:
        cat.import_file("nyc311", bad, clock=CLOCK)
    problem = err.value.problems[0]
    assert problem.field == "latitude" and problem.record == "row 17"
    assert "'north-ish' is not a float" in problem.message
    assert cat.entry("nyc311").version == 1 and cat.entry("nyc311").rows == 40
    assert len(list((tmp_path / "datasets" / "nyc311").glob("v*"))) == 1
    stamp = _head(tmp_path, 40, {3: ("created_date", "yesterday")})
    with pytest.raises(InvalidInput, match=r"row 3, column 'created_date'"):
        cat.import_file("nyc311", stamp, clock=CLOCK)
    blank = _head(tmp_path, 40, {5: ("unique_key", "")})
    with pytest.raises(InvalidInput, match=r"row 5, column 'unique_key': empty"):
        cat.import_file("nyc311", blank, clock=CLOCK)


@pytest.mark.realdata
def test_columns_that_do_not_match_the_spec_are_each_named(tmp_path: Path) -> None:
    frame = pd.read_csv(shared_file("nyc311_2026-04to06_100k.csv.gz"), dtype=str, nrows=5)
    path = tmp_path / "x.csv.gz"
    with gzip.open(path, "wt") as f:
        frame.drop(columns=["borough"]).assign(extra="1").to_csv(f, index=False)
    with pytest.raises(InvalidInput) as err:
        Catalogue(tmp_path / "d").import_file("nyc311", path, clock=CLOCK, spec=nyc_spec())
    assert {(p.field, p.rule) for p in err.value.problems} == {
        ("borough", "declared_column"),
        ("extra", "undeclared_column"),
    }
    with pytest.raises(NotFound):
        Catalogue(tmp_path / "d").entry("nyc311")


@pytest.mark.realdata
def test_geojson_and_parquet_inputs(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path / "datasets")
    spec = parse_spec(
        {"title": "districts", "owner": "planning", "open": True, "columns": DISTRICT_COLUMNS}
    )
    src = shared_file("nyc_community_districts.geojson")
    entry = cat.import_file("community_districts", src, clock=CLOCK, spec=spec)
    doc = json.loads(src.read_text())
    assert entry.rows == len(doc["features"]) == 71
    table = pq.read_table(cat.data_path("community_districts"))
    assert sorted(table["BoroCD"].to_pylist()) == sorted(
        f["properties"]["BoroCD"] for f in doc["features"]
    )
    doc["features"][8]["properties"]["BoroCD"] = 1.5
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match=r"feature 9, column 'BoroCD': '1.5' is not an? integer"):
        cat.import_file("community_districts", bad, clock=CLOCK)
    # Parquet: a typed file is cast safely to the declared types.
    pq.write_table(table.drop_columns(["geometry"]), tmp_path / "d.parquet")
    flat = parse_spec({"title": "d", "owner": "planning", "columns": DISTRICT_COLUMNS[:3]})
    assert (
        cat.import_file("districts_flat", tmp_path / "d.parquet", clock=CLOCK, spec=flat).rows == 71
    )
    wide = table.drop_columns(["geometry"]).set_column(
        0, "BoroCD", pa.array([str(v) for v in table["BoroCD"].to_pylist()[:-1]] + ["x"])
    )
    pq.write_table(wide, tmp_path / "w.parquet")
    with pytest.raises(InvalidInput, match=r"row 71, column 'BoroCD': 'x'"):
        cat.import_file("districts_flat", tmp_path / "w.parquet", clock=CLOCK)


def test_a_spec_reports_every_broken_rule() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_spec(
            {
                "owner": "x",
                "columns": [{"name": "a", "type": "money"}, {"name": "b"}, {"name": "b"}],
                "readers": {"roles": ["wizard"]},
                "lon": "nope",
            }
        )
    assert {p.rule for p in err.value.problems} == {
        "required",
        "column_type",
        "unique",
        "known_role",
        "declared_column",
    }
    with pytest.raises(InvalidInput, match="dataset name"):
        Catalogue(Path("/nonexistent")).entry("Bad Name")


def test_who_may_read_a_dataset(tmp_path: Path) -> None:
    spec = nyc_spec(readers={"roles": ["dispatcher"], "departments": ["roads"]})
    cat = Catalogue(tmp_path / "datasets")
    path = tmp_path / "t.csv"
    path.write_text(
        ",".join(c["name"] for c in NYC_COLUMNS)
        + "\n1,2026-04-11T23:28:40.000,,HPD,PAINT,WALL,R,10033,NY,MANHATTAN,40.8,-73.9\n"
    )
    entry = cat.import_file("nyc311", path, clock=CLOCK, spec=spec)
    city = Scope.city()
    assert may_read(person(departments=("sanitation",)), entry)  # the owner
    assert may_read(person(departments=("roads",)), entry)
    assert may_read(person(Grant(Role.DISPATCHER, city)), entry)
    assert may_read(person(Grant(Role.CITY_ADMIN, city)), entry)
    analyst = person(Grant(Role.ANALYST, city))
    assert not may_read(analyst, entry)
    with pytest.raises(PermissionDenied, match="sanitation"):
        cat.read(analyst, "nyc311")
    assert cat.visible_to(analyst) == []
    with pytest.raises(InvalidInput, match="not open"):
        dataset_extract(cat, person(departments=("sanitation",)), "nyc311")


def test_an_open_dataset_is_published_without_its_personal_columns(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path / "datasets")
    path = tmp_path / "t.csv"
    path.write_text(
        ",".join(c["name"] for c in NYC_COLUMNS)
        + "\n1,2026-04-11T23:28:40.000,,HPD,PAINT,WALL,R,10033,NY,MANHATTAN,40.8,-73.9"
        + "\n2,2026-04-11T23:30:00Z,2026-04-12T01:00:00,NYPD,Noise,Loud,S,10001,NY,MANHATTAN,,\n"
    )
    cat.import_file("nyc311", path, clock=CLOCK, spec=nyc_spec(open=True))
    anyone = person()
    extract = dataset_extract(cat, anyone, "nyc311")
    out = OpenData(tmp_path / "open")
    manifest = out.publish(extract, ["csv", "parquet", "geojson"], CLOCK)
    here = out.latest("nyc311")
    assert manifest["personal_data_removed"] == ["incident_zip"]
    assert "incident_zip" not in (here / "nyc311.csv").read_text()
    for f in manifest["files"]:
        assert hashlib.sha256((here / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    geo = json.loads((here / "nyc311.geojson").read_text())
    assert [f["geometry"] for f in geo["features"]] == [
        {"type": "Point", "coordinates": [-73.9, 40.8]},
        None,
    ]
    assert geo["features"][1]["properties"]["created_date"] == "2026-04-11T23:30:00"
    assert out.manifests() == [manifest]
    with pytest.raises(NotFound):
        out.file("nyc311", "../secret")
