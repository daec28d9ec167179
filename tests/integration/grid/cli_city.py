"""A command-line test's database with one district imported, for the importers that locate
their rows in it (addresses, populations)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from onegrid.cli import app


def cli_with_district(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("ONEGRID_LOG_LEVEL", "WARNING")
    runner = CliRunner()
    shape = tmp_path / "district.geojson"
    shape.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"code": "110101"}, "geometry": '
        + shapely.to_geojson(shapely.box(116.30, 39.90, 116.31, 39.92))
        + "}]}"
    )
    done = runner.invoke(
        app, ["import", "areas", str(shape), "--level", "district", "--code-field", "code"]
    )
    assert done.exit_code == 0, done.output
    return runner
