"""Dataset import in chunks: a file larger than one chunk is read, checked and written a chunk at
a time, arrives whole with the declared schema, and a bad value in a later chunk still
publishes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onegrid.analytics import datasets
from onegrid.analytics.datasets import Catalogue
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, NotFound
from tests.support import shared_file
from tests.unit.analytics.test_datasets import DISTRICT_COLUMNS, NYC_COLUMNS, nyc_spec

CLOCK = FixedClock(datetime(2026, 11, 30, 4, tzinfo=UTC))
NYC = "nyc311_2026-04to06_100k.csv.gz"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Chunks of 64 KiB of CSV text or 1,000 records, and the size of every chunk written."""
    monkeypatch.setattr(datasets, "CHUNK_BYTES", 64 << 10)
    monkeypatch.setattr(datasets, "CHUNK_ROWS", 1_000)
    written: list[int] = []
    real = pq.ParquetWriter.write_table

    def counting(self: pq.ParquetWriter, table: pa.Table, *args: object, **kw: object) -> None:
        written.append(table.num_rows)
        real(self, table, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pq.ParquetWriter, "write_table", counting)
    return written


@pytest.mark.realdata
def test_a_csv_larger_than_a_chunk_arrives_whole_with_its_schema(
    tmp_path: Path, small_chunks: list[int]
) -> None:
    src = shared_file(NYC)
    cat = Catalogue(tmp_path / "datasets")
    entry = cat.import_file("nyc311", src, clock=CLOCK, spec=nyc_spec())
    expected = pd.read_csv(src, dtype=str)
    assert entry.rows == len(expected) == 100_000
    assert len(small_chunks) > 50 and sum(small_chunks) == entry.rows
    table = pq.read_table(cat.data_path("nyc311"))
    assert table.schema == pa.schema(
        [pa.field(c["name"], datasets.TYPES[c["type"]]) for c in NYC_COLUMNS]
    )
    assert table["unique_key"].to_pylist() == [int(v) for v in expected["unique_key"]]
    assert table["complaint_type"].to_pylist() == list(expected["complaint_type"])


@pytest.mark.realdata
def test_a_bad_cell_in_a_later_chunk_names_its_row_and_publishes_nothing(
    tmp_path: Path, small_chunks: list[int]
) -> None:
    frame = pd.read_csv(shared_file(NYC), dtype=str, nrows=20_000)
    frame.loc[17_499, "created_date"] = "yesterday"
    path = tmp_path / "nyc.csv"
    frame.to_csv(path, index=False)
    cat = Catalogue(tmp_path / "datasets")
    with pytest.raises(InvalidInput, match=r"row 17500, column 'created_date': 'yesterday'"):
        cat.import_file("nyc311", path, clock=CLOCK, spec=nyc_spec())
    assert len(small_chunks) > 1  # chunks before the bad one were staged, then discarded
    with pytest.raises(NotFound):
        cat.entry("nyc311")
    assert not list((tmp_path / "datasets" / "nyc311").glob("v*"))
    assert not list((tmp_path / "datasets" / "nyc311").glob(".tmp-*"))


@pytest.mark.realdata
def test_parquet_and_geojson_larger_than_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: list[int]
) -> None:
    cat = Catalogue(tmp_path / "datasets")
    nyc = cat.import_file("nyc311", shared_file(NYC), clock=CLOCK, spec=nyc_spec())
    pq.write_table(pq.read_table(cat.data_path("nyc311")), tmp_path / "nyc.parquet")
    small_chunks.clear()
    again = cat.import_file("nyc_copy", tmp_path / "nyc.parquet", clock=CLOCK, spec=nyc_spec())
    assert again.rows == nyc.rows and small_chunks == [1_000] * 100

    monkeypatch.setattr(datasets, "CHUNK_ROWS", 10)
    src = shared_file("nyc_community_districts.geojson")
    doc = json.loads(src.read_text())
    spec = datasets.parse_spec({"title": "d", "owner": "planning", "columns": DISTRICT_COLUMNS})
    small_chunks.clear()
    entry = cat.import_file("districts", src, clock=CLOCK, spec=spec)
    assert entry.rows == len(doc["features"]) == 71 and len(small_chunks) == 8
    table = pq.read_table(cat.data_path("districts"))
    assert table["BoroCD"].to_pylist() == [f["properties"]["BoroCD"] for f in doc["features"]]
    assert table.schema.field("geometry").type == pa.binary()
    # A property no spec declares, first seen in the last chunk, is named; nothing changes.
    doc["features"][70]["properties"]["note"] = "late"
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match="column 'note' the spec does not declare"):
        cat.import_file("districts", bad, clock=CLOCK)
    assert cat.entry("districts").version == 1
