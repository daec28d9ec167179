"""A Parquet or GeoJSON dataset is read at most ``chunk_rows`` rows (features) at a time, the
rows arriving whole and in order; and a spec file that cannot be used is refused naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onegrid.analytics.datasets import iter_geojson, iter_parquet, load_spec, parse_spec
from onegrid.core.errors import InvalidInput
from tests.support import assert_yaml_refused

ROWS = 2_500
SPEC = parse_spec(
    {
        "title": "t",
        "owner": "planning",
        "columns": [
            {"name": "n", "type": "integer", "nullable": False},
            {"name": "label", "type": "string"},
        ],
    }
)
GEO_SPEC = parse_spec(
    {
        "title": "t",
        "owner": "planning",
        "columns": [
            {"name": "n", "type": "integer", "nullable": False},
            {"name": "geometry", "type": "geometry", "nullable": False},
        ],
    }
)


def test_a_parquet_file_is_read_chunk_rows_at_a_time_in_order(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    # Written as one row group: the chunks come from chunk_rows, not from the file's layout.
    pq.write_table(
        pa.table({"n": list(range(ROWS)), "label": [f"r{i}" for i in range(ROWS)]}),
        path,
        row_group_size=ROWS,
    )
    chunks = list(iter_parquet(path, SPEC, chunk_rows=1_000))
    assert [c.num_rows for c in chunks] == [1_000, 1_000, 500]
    whole = pa.concat_tables(chunks)
    assert whole["n"].to_pylist() == list(range(ROWS))
    assert whole["label"].to_pylist() == [f"r{i}" for i in range(ROWS)]


def test_a_geojson_file_is_read_chunk_rows_features_at_a_time_in_order(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"n": i},
            "geometry": {"type": "Point", "coordinates": [i / 1_000, 1.0]},
        }
        for i in range(ROWS)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    chunks = list(iter_geojson(path, GEO_SPEC, chunk_rows=1_000))
    assert [c.num_rows for c in chunks] == [1_000, 1_000, 500]
    whole = pa.concat_tables(chunks)
    assert whole["n"].to_pylist() == list(range(ROWS))
    assert whole["geometry"].null_count == 0


def test_a_bad_value_in_a_later_chunk_names_its_row_in_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    labels: list[str | None] = ["x"] * ROWS
    pq.write_table(
        pa.table({"n": [None if i == 2_100 else i for i in range(ROWS)], "label": labels}), path
    )
    with pytest.raises(InvalidInput, match=r"row 2101, column 'n': empty"):
        list(iter_parquet(path, SPEC, chunk_rows=1_000))


@pytest.mark.parametrize(
    ("text", "rule", "says"),
    [
        (None, "readable", "cannot read"),
        ("title: [unclosed", "yaml", "is not valid YAML"),
        ("- a list\n", "mapping", "must hold a mapping"),
    ],
)
def test_a_spec_file_that_cannot_be_used_is_refused_naming_it(
    tmp_path: Path, text: str | None, rule: str, says: str
) -> None:
    assert_yaml_refused(load_spec, tmp_path / "spec.yaml", text, "spec", rule, says)


def test_a_spec_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("title: T\nowner: planning\ncolumns: [{name: n, type: integer}]\n")
    assert load_spec(path).columns[0].type == "integer"
