"""Bulk component imports into a real database: good rows, every kind of bad row by line,
skip versus refuse, duplicates, and the sources (CSV, GeoJSON, Python records)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from onegrid.assets import queries, services
from onegrid.assets.domain import ComponentDraft
from onegrid.assets.importing import (
    ComponentImportOptions,
    ComponentImportReport,
    OnError,
    import_component_records,
    import_components_file,
)
from onegrid.assets.models import ComponentRow
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.grid import crs
from tests.integration.assets.city import IN_EAST, IN_WEST, OUTSIDE, build_city

HEADER = [
    "id",
    "class_code",
    "name",
    "lon",
    "lat",
    "owner",
    "maintainer",
    "state",
    "first_recorded",
]


def row(
    cid: str = "",
    cls: str = "C0101",
    lon: float = IN_WEST[0],
    lat: float = IN_WEST[1],
    owner: str = "water",
    **extra: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": cid,
        "class_code": cls,
        "name": "",
        "lon": lon,
        "lat": lat,
        "owner": owner,
        "maintainer": "",
        "state": "",
        "first_recorded": "2024-05-01",
    }
    values.update(extra)
    return values


def write_csv(path: Path, rows: Sequence[dict[str, Any]], header: Sequence[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(db: Database) -> int:
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(ComponentRow)) or 0


def problems(report: ComponentImportReport) -> set[tuple[int, str, str]]:
    return {(p.line, p.field, p.rule) for p in report.problems}


def run(db: Database, path: Path, clock: FixedClock, **options: Any) -> ComponentImportReport:
    return import_components_file(db, path, clock, ComponentImportOptions(**options))


def test_good_rows_are_written_located(city: Database, clock: FixedClock, tmp_path: Path) -> None:
    rows = [row("1101010101000001"), row(), row(cls="C0115", owner="lamps", lon=IN_EAST[0])]
    report = run(city, write_csv(tmp_path / "good.csv", rows), clock)
    assert report.ok and (report.rows, report.written) == (3, 3)
    assert report.report_path is None and not (tmp_path / "good.errors.csv").exists()
    with city.reader() as s:
        ids = [c.id for c in queries.list_components(s).items]
        assert ids == ["1101010101000001", "1101010101000002", "1101020115000001"]
        c = queries.get_component(s, ids[2])
        assert (c.name, c.district, c.community, c.data_source) == (
            "路灯",
            "110102",
            "110102001001",
            "good.csv",
        )
        assert c.last_changed == clock.now()


BAD_ROWS = [
    (row("11010101010001"), ("id", "id_format")),
    (row(cls="C9999"), ("class_code", "known_class")),
    (row("1101010102000001"), ("id", "id_matches_class")),
    (row("1101020101000001"), ("id", "id_matches_district")),
    (row(lon=OUTSIDE[0], lat=OUTSIDE[1]), ("lon", "inside_city")),
    (row(first_recorded="2024-02-30"), ("first_recorded", "date_format")),
    (row(owner=""), ("owner", "required")),
    (row(owner="ghost"), ("owner", "known_department")),
    (row(state="wobbly"), ("state", "known_state")),
    (row(lon="east"), ("lon", "number")),
]


def test_each_kind_of_bad_row_is_reported_by_line_and_rule(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    rows = [row()] + [bad for bad, _ in BAD_ROWS] + [row()]
    path = write_csv(tmp_path / "mixed.csv", rows)
    report = run(city, path, clock, on_error=OnError.SKIP)
    expected = {(line, *rule) for line, (_, rule) in enumerate(BAD_ROWS, start=3)}
    assert problems(report) == expected
    assert (report.rows, report.written, report.rejected_rows) == (12, 2, 10)
    assert not report.refused and count(city) == 2
    # The full report sits beside the input, one line per problem.
    assert report.report_path == tmp_path / "mixed.errors.csv"
    with report.report_path.open(encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert {(int(r["line"]), r["field"], r["rule"]) for r in lines} == expected
    assert "line 3: id [id_format]" in report.render()


def test_refuse_writes_nothing_if_any_row_is_bad(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    rows = [row() for _ in range(30)] + [row(owner="")] + [row() for _ in range(30)]
    report_path = tmp_path / "elsewhere" / "report.csv"
    report_path.parent.mkdir()
    report = run(
        city,
        write_csv(tmp_path / "f.csv", rows),
        clock,
        on_error=OnError.REFUSE,
        batch_size=7,
        report_path=report_path,
    )
    assert report.refused and report.written == 0
    assert problems(report) == {(32, "owner", "required")}
    assert count(city) == 0
    assert report.report_path == report_path and report_path.exists()
    assert "REFUSED" in report.render()


def test_refuse_writes_everything_when_all_rows_are_good(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    rows = [row() for _ in range(25)]
    report = run(
        city, write_csv(tmp_path / "f.csv", rows), clock, on_error=OnError.REFUSE, batch_size=10
    )
    assert report.ok and report.written == 25 and count(city) == 25


def test_duplicates_within_the_file_and_with_the_database(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with city.unit_of_work() as s:
        services.create_component(
            s, ComponentDraft("C0101", "", *IN_WEST, owner="water", id="1101010101000500"), clock
        )
    rows = [
        row("1101010101000001"),  # line 2
        row("1101010101000001"),  # line 3: same batch
        row("1101010101000500"),  # line 4: stored already
        row("1101010101000002"),  # line 5
        row("1101010101000003"),  # line 6
        row("1101010101000002"),  # line 7: an earlier batch (batch size 3)
        row(),  # line 8: allocated after the highest sequence seen
    ]
    report = run(
        city, write_csv(tmp_path / "dup.csv", rows), clock, on_error=OnError.SKIP, batch_size=3
    )
    assert problems(report) == {
        (3, "id", "unique_in_file"),
        (4, "id", "unique_in_database"),
        (7, "id", "unique_in_file"),
    }
    assert "line 2" in next(p.message for p in report.problems if p.line == 3)
    with city.reader() as s:
        ids = sorted(c.id for c in queries.list_components(s).items)
    assert ids == [
        "1101010101000001",
        "1101010101000002",
        "1101010101000003",
        "1101010101000500",
        "1101010101000501",
    ]


def test_chinese_headings_gcj02_and_a_mapping(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    lon, lat = crs.wgs84_to_gcj02(IN_EAST[0], IN_EAST[1])
    header = ["部件编码", "小类代码", "经度", "纬度", "权属", "养护单位", "初始日期", "状态"]
    rows = [
        dict(
            zip(
                header,
                [
                    "1101020115000009",
                    "C0115",
                    float(lon),
                    float(lat),
                    "lamps",
                    "lamps",
                    "2023/7/1",
                    "破损",
                ],
                strict=True,
            )
        )
    ]
    path = write_csv(tmp_path / "部件.csv", rows, header)
    report = run(city, path, clock, crs="gcj02", mapping={"owner": "权属"})
    assert report.ok, report.render()
    with city.reader() as s:
        c = queries.get_component(s, "1101020115000009")
    assert c.lon == pytest.approx(IN_EAST[0], abs=1e-7)
    assert (c.state.value, c.first_recorded.isoformat(), c.maintainer) == (
        "damaged",
        "2023-07-01",
        "lamps",
    )


def test_a_file_missing_required_columns_is_refused_before_reading(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", [{"id": "1", "lon": 1}], header=["id", "lon"])
    with pytest.raises(InvalidInput) as exc:
        run(city, path, clock)
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("lat", "required_column"),
        ("owner", "required_column"),
    }
    with pytest.raises(InvalidInput) as exc:
        run(city, path, clock, mapping={"owner": "权属单位"})
    assert exc.value.problems[0].rule == "known_column"


def test_rows_with_wrong_field_counts_and_multi_line_fields(
    city: Database, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "class_code,lon,lat,owner,note\n"
        f'C0101,{IN_WEST[0]},{IN_WEST[1]},water,"two\nlines"\n'
        f"C0101,{IN_WEST[0]},{IN_WEST[1]},water\n"
        "\n"
        f"C0101,{IN_WEST[0]},{IN_WEST[1]},water,\n",
        encoding="utf-8",
    )
    report = run(city, path, clock, on_error=OnError.SKIP)
    assert problems(report) == {(4, "line", "field_count")}
    assert report.written == 2
    with city.reader() as s:
        notes = [c.note for c in queries.list_components(s).items]
    assert notes == ["two\nlines", None]


def test_geojson_features_are_numbered(city: Database, clock: FixedClock, tmp_path: Path) -> None:
    def feature(geometry: Any, **props: Any) -> dict[str, Any]:
        return {"type": "Feature", "geometry": geometry, "properties": props}

    point = {"type": "Point", "coordinates": list(IN_WEST)}
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature(point, class_code="C0101", owner="water", id=1101010101000001),
            feature({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, owner="water"),
            feature(point, class_code="C0101", owner=""),
            {**feature(point, 权属单位="water"), "id": "1101010101000002"},
        ],
    }
    path = tmp_path / "components.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    report = run(city, path, clock, on_error=OnError.SKIP)
    assert problems(report) == {(2, "geometry", "point_geometry"), (3, "owner", "required")}
    assert report.unit == "feature" and "feature 2" in report.render()
    with city.reader() as s:
        assert [c.id for c in queries.list_components(s).items] == [
            "1101010101000001",
            "1101010101000002",
        ]


def test_python_records_for_a_demo_builder(city: Database, clock: FixedClock) -> None:
    records = [
        {"class_code": "C0119", "lon": IN_WEST[0], "lat": IN_WEST[1], "owner": "water"},
        {
            "class_code": "C0401",
            "lon": IN_EAST[0],
            "lat": IN_EAST[1],
            "owner": "gardens",
            "name": "国槐",
        },
    ]
    report = import_component_records(city, records, clock)
    assert report.ok and report.written == 2
    with city.reader() as s:
        names = [(c.id, c.name, c.data_source) for c in queries.list_components(s).items]
    assert names == [
        ("1101010119000001", "消火栓", "python"),
        ("1101020401000001", "国槐", "python"),
    ]
    with pytest.raises(InvalidInput) as exc:
        import_component_records(city, [{"colour": "red"}], clock)
    assert exc.value.problems[0].rule == "known_field"


def test_a_test_city_numbers_rows_under_the_admin_code_option(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path, admin_codes=False)
    path = write_csv(tmp_path / "f.csv", [row(), row("4401060101000001")])
    report = run(db, path, clock, on_error=OnError.SKIP)
    assert problems(report) == {(2, "admin_code", "admin_code_known")}
    report = run(db, write_csv(tmp_path / "g.csv", [row()]), clock, admin_code="990101")
    assert report.ok
    with db.reader() as s:
        assert [c.id for c in queries.list_components(s).items] == [
            "4401060101000001",
            "9901010101000001",
        ]


def test_no_taxonomy_means_no_import(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as exc:
        run(db, write_csv(tmp_path / "f.csv", [row()]), clock)
    assert exc.value.problems[0].field == "taxonomy"


def test_progress_is_reported_per_batch(city: Database, clock: FixedClock, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [row() for _ in range(10)])
    calls: list[tuple[int, int]] = []
    import_components_file(
        city,
        path,
        clock,
        ComponentImportOptions(batch_size=4),
        lambda done, rows: calls.append((done, rows)),
    )
    assert [rows for _, rows in calls] == [4, 8, 10]
    assert calls[-1][0] == path.stat().st_size
