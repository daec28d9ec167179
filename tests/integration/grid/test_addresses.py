"""Loading the standard address register (标准地址库): CSV and GeoJSON, coordinate systems, all
rows or none, re-imports by id, and the lookups by id and by text."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import event, func, select

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid import queries
from onegrid.grid import services as grid
from onegrid.grid.crs import from_wgs84, parse_crs
from onegrid.grid.importing.addresses import read_address_file
from onegrid.grid.models import AddressRow
from tests.area_layout import import_layout
from tests.integration.grid.cli_city import cli_with_district

pytestmark = pytest.mark.postgres
START = date(2025, 1, 1)
HEADER = "id,address,lon,lat,crs"
POINT = (116.305, 39.91)
OUTSIDE = (116.40, 39.95)


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        for level, code, parent in (
            ("city", "110000", None),
            ("district", "110101", "110000"),
            ("subdistrict", "110101001", "110101"),
            ("community", "110101001001", "110101001"),
        ):
            box = shapely.box(116.30, 39.90, 116.31, 39.92)
            import_layout(
                s, clock, tmp_path / f"{level}.geojson", level, [(code, parent, box)], START
            )
        grid.generate_unit_grids(s, clock, valid_from=START)
    return db


def _write(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def _load(
    db: Database, clock: FixedClock, path: Path, on: date = START, crs: str | None = None
) -> str:
    drafts, problems = read_address_file(path, crs)
    with db.unit_of_work() as s:
        return grid.load_addresses(s, drafts, problems, clock, valid_from=on).render()


def _rows(db: Database) -> list[tuple[str, str, date, date | None]]:
    with db.reader() as s:
        found = s.execute(
            select(
                AddressRow.address_id, AddressRow.text, AddressRow.valid_from, AddressRow.valid_to
            ).order_by(AddressRow.address_id, AddressRow.valid_from)
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def _count(db: Database) -> int:
    with db.reader() as s:
        return int(s.scalar(select(func.count()).select_from(AddressRow)) or 0)


def test_a_csv_is_loaded_located_and_found(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "a.csv",
        f"D1,示范路１号,{POINT[0]},{POINT[1]},",
        f"D2,示范路2号,{POINT[0]},39.915,",
    )
    assert _load(city, clock, path) == (
        "standard addresses: 2 new, 0 corrected, 0 new versions, 0 unchanged"
    )
    with city.reader() as s:
        found = queries.find_address_by_id(s, "D1", START)
        assert found is not None and found.text == "示范路１号"
        assert (found.lon, found.lat) == POINT
        location = queries.locate(s, *POINT, START)
        assert location is not None and found.unit_grid == location.unit_grid
        assert found.area_code == "110101001001"
        # Text is matched in its folded form only: width, spaces, punctuation; nothing looser.
        assert queries.find_address(s, " 示范路 1 号 ", START) == found
        assert queries.find_address(s, "示范路1", START) is None
        assert queries.find_address(s, "示范路", START) is None
        assert queries.find_address(s, "示范路3号", START) is None
        assert queries.find_address_by_id(s, "D9", START) is None
        # Not yet registered the day before it starts.
        assert queries.find_address_by_id(s, "D1", date(2024, 12, 31)) is None
        assert queries.count_addresses(s, START) == 2


def test_one_bad_row_writes_nothing(city: Database, clock: FixedClock, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.csv",
        f"D1,示范路1号,{POINT[0]},{POINT[1]},",
        f"D2,示范路2号,{OUTSIDE[0]},{OUTSIDE[1]},",
        f"D3,示范路3号,{POINT[0]},north,",
        "D4,示范路4号,12946000,4852000,wgs84",
    )
    with pytest.raises(InvalidInput) as e:
        _load(city, clock, path)
    assert [(p.record, p.field, p.rule) for p in e.value.problems] == [
        ("line 4 (address D3)", "lat", "number"),
        ("line 5 (address D4)", "lon", "wgs84-range"),  # metres given as degrees
        ("line 3 (address D2)", "lon", "inside-city"),
    ]
    assert _count(city) == 0


def test_an_address_too_long_once_normalised_is_refused_by_line(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    # 155 characters as written, 605 once NFKC unfolds each ㍿ into 株式会社: on PostgreSQL
    # this crashed the import on the normalised column instead of naming the row.
    widening = "示范路" + "㍿" * 150 + "1号"
    assert len(widening) <= 500
    path = _write(
        tmp_path,
        "long.csv",
        f"D1,示范路1号,{POINT[0]},{POINT[1]},",
        f"D2,{widening},{POINT[0]},39.915,",
        f"D3,示范路\x003号,{POINT[0]},39.916,",
        f"D4\x07,示范路4号,{POINT[0]},39.917,",
    )
    with pytest.raises(InvalidInput) as e:
        _load(city, clock, path)
    assert [(p.record, p.field, p.rule) for p in e.value.problems] == [
        ("line 3 (address D2)", "address", "max-length"),
        ("line 4 (address D3)", "address", "control_character"),
        ("line 5 (address 'D4\\x07')", "id", "control_character"),
    ]
    assert "605" in e.value.problems[0].message
    assert _count(city) == 0


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "EPSG:3857", "EPSG:4490"])
def test_points_are_converted_to_wgs84(
    city: Database, clock: FixedClock, tmp_path: Path, crs: str
) -> None:
    x, y = from_wgs84(POINT[0], POINT[1], parse_crs(crs))
    path = _write(tmp_path, "c.csv", f"D1,示范路1号,{float(x)!r},{float(y)!r},{crs}")
    _load(city, clock, path)
    with city.reader() as s:
        found = queries.find_address_by_id(s, "D1", START)
    assert found is not None
    assert found.lon == pytest.approx(POINT[0], abs=1e-7)
    assert found.lat == pytest.approx(POINT[1], abs=1e-7)
    if crs in ("gcj02", "bd09"):  # the offset is hundreds of metres: it was applied
        assert abs(float(x) - POINT[0]) > 1e-3


def test_geojson_points_with_a_given_or_declared_crs(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    gx, gy = from_wgs84(POINT[0], POINT[1], parse_crs("gcj02"))
    mx, my = from_wgs84(POINT[0], 39.915, parse_crs("EPSG:3857"))

    def collection(points: list[tuple[str, str, float, float]], **extra: object) -> str:
        features = [
            {
                "type": "Feature",
                "properties": {"id": i, "address": text},
                "geometry": {"type": "Point", "coordinates": [px, py]},
            }
            for i, text, px, py in points
        ]
        return json.dumps({"type": "FeatureCollection", "features": features, **extra})

    amap = tmp_path / "amap.geojson"
    amap.write_text(collection([("G1", "示范路1号", float(gx), float(gy))]), encoding="utf-8")
    assert "1 new" in _load(city, clock, amap, crs="gcj02")
    declared = tmp_path / "mercator.geojson"
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    declared.write_text(collection([("G2", "示范路2号", float(mx), float(my))], crs=crs))
    assert "1 new" in _load(city, clock, declared)
    with city.reader() as s:
        one, two = (
            queries.find_address_by_id(s, "G1", START),
            queries.find_address_by_id(s, "G2", START),
        )
    assert one is not None and (one.lon, one.lat) == pytest.approx(POINT, abs=1e-7)
    assert two is not None and (two.lon, two.lat) == pytest.approx((POINT[0], 39.915), abs=1e-7)
    polygon = tmp_path / "polygon.geojson"
    polygon.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": "G3", "address": "示范路3号"},
                        "geometry": shapely.geometry.mapping(
                            shapely.box(116.30, 39.90, 116.301, 39.901)
                        ),
                    }
                ],
            }
        )
    )
    with pytest.raises(InvalidInput) as e:
        _load(city, clock, polygon)
    assert [(p.record, p.rule) for p in e.value.problems] == [
        ("feature 1 (address G3)", "point-geometry")
    ]


def test_a_reimport_upserts_by_id(city: Database, clock: FixedClock, tmp_path: Path) -> None:
    first = _write(
        tmp_path,
        "1.csv",
        f"D1,示范路1号,{POINT[0]},{POINT[1]},",
        f"D2,示范路2号,{POINT[0]},39.915,",
    )
    _load(city, clock, first)
    assert _load(city, clock, first) == (
        "standard addresses: 0 new, 0 corrected, 0 new versions, 2 unchanged"
    )
    # Same first day: corrected in place. A later day: the old version ends, a new one starts.
    fixed = _write(tmp_path, "2.csv", f"D1,示范路1号,{POINT[0]},39.911,")
    assert "1 corrected" in _load(city, clock, fixed)
    renamed = _write(
        tmp_path, "3.csv", f"D2,示范路二号,{POINT[0]},39.915,", f"D3,示范路3号,{POINT[0]},39.916,"
    )
    later = date(2026, 1, 1)
    assert _load(city, clock, renamed, on=later) == (
        "standard addresses: 1 new, 0 corrected, 1 new versions, 0 unchanged"
    )
    assert _rows(city) == [
        ("D1", "示范路1号", START, None),
        ("D2", "示范路2号", START, later),
        ("D2", "示范路二号", later, None),
        ("D3", "示范路3号", later, None),
    ]
    with city.reader() as s:
        old = queries.find_address_by_id(s, "D2", date(2025, 6, 1))
        new = queries.find_address_by_id(s, "D2", later)
        assert old is not None and old.text == "示范路2号"
        assert new is not None and new.text == "示范路二号"
        assert queries.find_address(s, "示范路2号", later) is None
        d1 = queries.find_address_by_id(s, "D1", later)
        assert d1 is not None and d1.lat == 39.911


def test_a_reimport_updates_in_one_statement_per_kind(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    def rows(name: str, lat: float) -> list[str]:
        return [f"D{i},示范路{i}{name},{POINT[0]},{lat + i / 1000:.4f}," for i in range(1, 5)]

    def updates_of(path: Path, on: date) -> tuple[str, list[bool]]:
        many: list[bool] = []

        def seen(*args: Any) -> None:
            if str(args[2]).lstrip().upper().startswith("UPDATE"):
                many.append(bool(args[5]))

        event.listen(city.engine, "before_cursor_execute", seen)
        try:
            return _load(city, clock, path, on=on), many
        finally:
            event.remove(city.engine, "before_cursor_execute", seen)

    _load(city, clock, _write(tmp_path, "1.csv", *rows("号", 39.91)))
    # Four points moved the same first day: corrected in place by one executemany.
    summary, many = updates_of(_write(tmp_path, "2.csv", *rows("号", 39.9105)), START)
    assert summary == "standard addresses: 0 new, 4 corrected, 0 new versions, 0 unchanged"
    assert many == [True]
    # Renamed from a later day: the four versions are ended by one executemany too.
    later = date(2026, 1, 1)
    summary, many = updates_of(_write(tmp_path, "3.csv", *rows("号院", 39.9105)), later)
    assert summary == "standard addresses: 0 new, 0 corrected, 4 new versions, 0 unchanged"
    assert many == [True]
    assert [r[1:] for r in _rows(city)[:2]] == [
        ("示范路1号", START, later),
        ("示范路1号院", later, None),
    ]
    with city.reader() as s:
        d4 = queries.find_address_by_id(s, "D4", START)
        assert d4 is not None and d4.lat == 39.9145


def test_an_address_held_by_another_id_is_refused(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    _load(city, clock, _write(tmp_path, "1.csv", f"D1,示范路1号,{POINT[0]},{POINT[1]},"))
    with pytest.raises(InvalidInput) as e:
        _load(city, clock, _write(tmp_path, "2.csv", f"X1,示范路 1 号,{POINT[0]},{POINT[1]},"))
    assert [(p.record, p.rule) for p in e.value.problems] == [
        ("line 2 (address X1)", "address-unique")
    ]
    # The same text moving to another id in one file is a swap, not a clash.
    swap = _write(
        tmp_path,
        "3.csv",
        f"D1,示范路9号,{POINT[0]},{POINT[1]},",
        f"X1,示范路1号,{POINT[0]},39.912,",
    )
    assert "1 new, 1 corrected" in _load(city, clock, swap)
    assert _count(city) == 2


def test_the_command_loads_a_file_or_names_its_bad_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = cli_with_district(tmp_path, monkeypatch)
    bad = _write(
        tmp_path,
        "bad.csv",
        f"D1,示范路1号,{POINT[0]},{POINT[1]},",
        f"D2,示范路2号,{OUTSIDE[0]},{OUTSIDE[1]},",
    )
    done = runner.invoke(app, ["import", "addresses", str(bad)])
    assert done.exit_code == 1
    assert "nothing was written" in done.output and "line 3" in done.output
    assert "inside-city" in done.output
    gx, gy = from_wgs84(POINT[0], POINT[1], parse_crs("gcj02"))
    good = _write(tmp_path, "good.csv", f"D1,示范路1号,{float(gx)!r},{float(gy)!r},")
    done = runner.invoke(app, ["import", "addresses", str(good), "--crs", "gcj02"])
    assert done.exit_code == 0, done.output
    assert "1 new" in done.output
    # A register exported with its own property names (地址编码, 地址名称).
    points = tmp_path / "register.geojson"
    feature = {
        "type": "Feature",
        "properties": {"dzbm": "D2", "dzmc": "示范路2号"},
        "geometry": {"type": "Point", "coordinates": [POINT[0], 39.915]},
    }
    points.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    done = runner.invoke(
        app,
        ["import", "addresses", str(points), "--id-field", "dzbm", "--address-field", "dzmc"],
    )
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["grid", "stats"])
    assert done.exit_code == 0, done.output
    assert re.search(r"standard addresses\s*│\s*2\b", done.output), done.output
