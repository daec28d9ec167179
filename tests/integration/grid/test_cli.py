"""The grid commands end to end against a SQLite file: import, generate, locate, duty rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from onegrid.cli import app
from tests.integration.grid.boundary_files import (
    CITY,
    COMMUNITIES,
    DISTRICTS,
    SUBDISTRICTS,
    feature,
    level_file,
    write_geojson,
)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ONEGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("ONEGRID_LOG_LEVEL", "WARNING")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    return invoke


def test_import_generate_locate_and_dispatch(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    levels = [
        ("city", CITY, []),
        ("district", DISTRICTS, ["--parent-code", "110000"]),
        ("subdistrict", SUBDISTRICTS, ["--parent-from-code-prefix", "6"]),
        ("community", COMMUNITIES, ["--parent-from-code-prefix", "9"]),
    ]
    for level, shapes, extra in levels:
        path = level_file(tmp_path, shapes, level)
        code, out = run(
            "import",
            "areas",
            str(path),
            "--level",
            level,
            "--code-field",
            "code",
            "--name-field",
            "name",
            "--valid-from",
            "2026-01-01",
            *extra,
        )
        assert code == 0, out
        assert f"{len(shapes)} accepted ({len(shapes)} new)" in out
    code, out = run("grid", "generate", "--valid-from", "2026-01-01")
    assert code == 0, out
    assert "2 community areas at H3 res 10" in out
    code, out = run("grid", "locate", "116.392", "39.906")
    assert code == 0, out
    assert "110101001001" in out and "unit_grid" in out
    code, out = run("grid", "locate", "0", "0")
    assert code == 3 and "outside the city" in out
    code, out = run(
        "grid",
        "duty",
        "set",
        "110101001",
        "*",
        "dhm-office",
        "--kind",
        "territorial",
        "--valid-from",
        "2026-01-01",
    )
    assert code == 0, out
    code, out = run("grid", "responsible", "E0101", "116.392", "39.906")
    assert code == 0, out
    assert "dhm-office (territorial)" in out
    code, out = run("grid", "stats")
    assert code == 0 and "unit grids: h3" in out


def test_refused_import_prints_the_record_and_rule(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_geojson(
        tmp_path / "bad.geojson",
        [feature(CITY["110000"], code="110000", name="北京")],
        encoding="gbk",
    )
    code, out = run(
        "import",
        "areas",
        str(path),
        "--level",
        "city",
        "--code-field",
        "code",
        "--name-field",
        "name",
    )
    assert code == 1
    assert "utf8-encoding" in out and "nothing was written" in out
    code, out = run(
        "import",
        "areas",
        str(level_file(tmp_path, CITY, "city")),
        "--level",
        "city",
        "--code-field",
        "code",
        "--crs",
        "lambert",
    )
    assert code == 1 and "known-crs" in out
