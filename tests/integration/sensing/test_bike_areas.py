"""Parking areas as data a city manages: ``onegrid sensors bikes areas load FILE`` (GeoJSON or
YAML; one bad area stores none), ``--replace``, and the watch counting in what was loaded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.logging import configure_logging
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.sensing import bikewatch
from onegrid.sensing.domain.bikes import ParkedGroup
from onegrid.sensing.settings import sensing_settings
from tests.integration.sensing.city import City

EXIT_A = (116.305, 39.91)  # west district
EXIT_B = (116.315, 39.91)  # east district
SQUARE_B = [
    [
        [116.3148, 39.9098],
        [116.3152, 39.9098],
        [116.3152, 39.9102],
        [116.3148, 39.9102],
        [116.3148, 39.9098],
    ]
]


@pytest.fixture
def cli(
    db: Database, city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The CLI on the test's database (either backend), its city already built."""
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    sensing_settings.cache_clear()
    yield CliRunner()
    sensing_settings.cache_clear()
    configure_logging()


def point(code: str, lonlat: tuple[float, float], capacity: Any, **more: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"Metro {code}", "capacity": capacity, **more},
        "geometry": {"type": "Point", "coordinates": list(lonlat)},
    }


def square(code: str, capacity: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "capacity": capacity},
        "geometry": {"type": "Polygon", "coordinates": SQUARE_B},
    }


def write(path: Path, *features: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def stored(db: Database, inactive: bool = True) -> dict[str, tuple[int, bool]]:
    with db.reader() as s:
        return {
            a.code: (a.capacity, a.active)
            for a in bikewatch.list_areas(s, include_inactive=inactive)
        }


def load(cli: CliRunner, path: Path, *args: str) -> Any:
    return cli.invoke(app, ["sensors", "bikes", "areas", "load", str(path), *args])


def test_a_file_loads_and_a_second_one_changes_and_replaces(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    first = write(
        tmp_path / "areas.geojson",
        point("A", EXIT_A, 40, radius_m=25),
        square("B", 12),
    )
    result = load(cli, first)
    assert result.exit_code == 0, result.output
    assert "2 parking areas: 2 added, 0 changed, 0 deactivated" in result.output
    assert stored(db) == {"A": (40, True), "B": (12, True)}
    with db.reader() as s:
        area = bikewatch.get_area(s, "A")
    assert area.name == "Metro A"
    assert area.geometry.contains(bikewatch.buffer(*EXIT_A, 24).centroid)

    yaml = tmp_path / "areas.yaml"
    yaml.write_text(
        "areas:\n"
        f"  - {{code: A, name: Metro A, capacity: 30, lon: {EXIT_A[0]}, lat: {EXIT_A[1]}, "
        "radius_m: 25}\n"
        f"  - {{code: C, capacity: 5, lon: {EXIT_B[0]}, lat: {EXIT_B[1]}, radius_m: 10}}\n"
    )
    result = load(cli, yaml, "--replace")
    assert result.exit_code == 0, result.output
    assert "2 parking areas: 1 added, 1 changed, 1 deactivated" in result.output
    assert stored(db) == {"A": (30, True), "B": (12, False), "C": (5, True)}
    listed = cli.invoke(app, ["sensors", "bikes", "areas", "list"])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[:2] for line in listed.output.splitlines()[:-1]] == [
        ["A", "30"],
        ["C", "5"],
    ]
    assert (
        "(inactive)" in cli.invoke(app, ["sensors", "bikes", "areas", "list", "--inactive"]).output
    )


def test_a_bad_file_stores_nothing_and_names_each_feature_and_field(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    bad = write(
        tmp_path / "bad.geojson",
        point("A", EXIT_A, 40, radius_m=25),
        point("B", EXIT_B, 10),  # no radius
        square("C", "ten"),
    )
    result = load(cli, bad)
    assert result.exit_code == 1
    assert "features[1].properties.radius_m: a point needs a radius" in result.output
    assert "features[2].properties.capacity: a capacity is a whole number" in result.output
    assert "nothing stored (2 problems)" in result.output
    assert stored(db) == {}


def test_an_area_outside_the_city_refuses_the_file_after_the_checks(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    """The file reads well, but one area lies outside the city: the transaction stores none."""
    path = write(
        tmp_path / "far.geojson",
        point("A", EXIT_A, 40, radius_m=25),
        point("FAR", (121.47, 31.23), 10, radius_m=25),
    )
    result = load(cli, path)
    assert result.exit_code == 1
    assert "features[1].geometry: the area at (121.47" in result.output
    assert "lies outside the city" in result.output
    assert stored(db) == {}


def test_the_watch_counts_in_loaded_areas_and_a_deactivated_one_clears(
    cli: CliRunner, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        people.create_department(s, "bikeco-ops", "运营", clock, kind="operator")
        bikewatch.set_operator(s, "bikeco", "BikeCo", "bikeco-ops", clock)
    assert (
        load(cli, write(tmp_path / "a.geojson", point("A", EXIT_A, 3, radius_m=25))).exit_code == 0
    )

    def round_(bikes: int) -> bikewatch.WatchReport:
        reading = bikewatch.FeedReading("bikeco", [ParkedGroup("bikeco", *EXIT_A, bikes)])
        report = bikewatch.watch_once(db, clock, cell_capacity=40, grace_s=0, readings=[reading])
        clock.advance(timedelta(minutes=1))
        return report

    raised = round_(5)
    assert [(e.change, e.area, e.capacity) for e in raised.events] == [("raised", "A", 3)]
    with db.unit_of_work() as s:
        bikewatch.deactivate_area(s, "A", clock)
    cleared = round_(5)  # the same 5 bikes now count in their cell (capacity 40)
    assert [(e.change, e.area) for e in cleared.events] == [("cleared", "A")]
    assert cleared.written.cleared == raised.written.raised
