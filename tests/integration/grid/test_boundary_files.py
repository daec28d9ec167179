"""Reading boundary files (real files on disk) and checking features, before any database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from onegrid.core.errors import InvalidInput
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions, draft_areas
from onegrid.grid.importing.reading import read_features
from onegrid.grid.importing.unit_grids import UnitGridImportOptions, draft_unit_grids
from tests.integration.grid.boundary_files import (
    COMMUNITIES,
    DISTRICTS,
    START,
    box,
    feature,
    to_gcj02,
    write_geojson,
)

BOWTIE = shapely.Polygon([(116.39, 39.90), (116.40, 39.91), (116.40, 39.90), (116.39, 39.91)])


def _options(**kw: object) -> AreaImportOptions:
    base: dict[str, object] = {
        "level": Level.DISTRICT,
        "code_field": "code",
        "valid_from": START,
        "name_field": "name",
    }
    base.update(kw)
    return AreaImportOptions(**base)  # type: ignore[arg-type]


def test_good_file_gives_one_draft_per_feature(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "d.geojson",
        [feature(g, code=int(c), name=f"区{c}") for c, g in DISTRICTS.items()],
    )
    drafts, problems, _ = draft_areas(read_features(path), _options(parent_code="110000"))
    assert problems == []
    assert [d.code for d in drafts] == ["110101", "110102"]
    assert drafts[0].name_zh == "区110101"
    assert drafts[0].parent_code == "110000"
    assert drafts[0].geometry.equals(DISTRICTS["110101"])


def test_self_intersecting_polygon_is_named_with_feature_number_code_and_rule(
    tmp_path: Path,
) -> None:
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            feature(DISTRICTS["110101"], code="110101", name="a"),
            feature(BOWTIE, code="110199", name="b"),
        ],
    )
    drafts, problems, _ = draft_areas(read_features(path), _options())
    assert [d.code for d in drafts] == ["110101"]
    (problem,) = problems
    assert problem.record == "feature 2 (code 110199)"
    assert problem.rule == "valid-geometry"
    assert "Self-intersection" in problem.message


def test_gbk_file_is_refused_naming_the_utf8_rule(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "gbk.geojson",
        [feature(DISTRICTS["110101"], code="110101", name="东城区")],
        encoding="gbk",
    )
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    problem = caught.value.problems[0]
    assert (problem.field, problem.rule) == ("file", "utf8-encoding")
    assert "RFC 7946" in problem.message
    assert "GB18030" in problem.message


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.geojson"
    doc = {"type": "FeatureCollection", "features": [feature(DISTRICTS["110101"], code="1")]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    assert len(read_features(path).features) == 1


def test_unknown_crs_is_refused(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "d.geojson", [feature(DISTRICTS["110101"], code="1", name="a")])
    with pytest.raises(InvalidInput) as caught:
        draft_areas(read_features(path), _options(crs="mars-2"))
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == ("crs", "known-crs")


def test_gcj02_file_is_stored_in_wgs84(tmp_path: Path) -> None:
    original = DISTRICTS["110101"]
    path = write_geojson(
        tmp_path / "gcj.geojson", [feature(to_gcj02(original), code="110101", name="a")]
    )
    (draft,), problems, _ = draft_areas(read_features(path), _options(crs="gcj02"))
    assert problems == []
    assert shapely.equals_exact(draft.geometry, original, tolerance=1e-8)


def test_projected_file_without_crs_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "m.geojson",
        [feature(box(12958000, 4852000, 12959000, 4853000), code="1", name="a")],
    )
    _, problems, _ = draft_areas(read_features(path), _options())
    assert problems[0].rule == "coordinates-in-range"
    (draft,), problems, _ = draft_areas(read_features(path), _options(crs="EPSG:3857"))
    assert problems == []
    assert 116.4 < draft.geometry.centroid.x < 116.42


def test_declared_legacy_crs_member_is_used(tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "m.geojson",
        [feature(box(12958000, 4852000, 12959000, 4853000), code="1", name="a")],
        declared_crs="urn:ogc:def:crs:EPSG::3857",
    )
    drafts, problems, _ = draft_areas(read_features(path), _options())
    assert problems == [] and len(drafts) == 1


def test_missing_duplicate_codes_points_and_empty_geometry(tmp_path: Path) -> None:
    g = DISTRICTS["110101"]
    path = write_geojson(
        tmp_path / "bad.geojson",
        [
            feature(g, name="no code"),
            feature(g, code="7", name="twin"),
            feature(g, code="7", name="twin"),
            feature(shapely.Point(116.39, 39.9), code="8", name="point"),
            feature(None, code="9", name="nothing"),
        ],
    )
    drafts, problems, _ = draft_areas(read_features(path), _options())
    assert drafts == []
    rules = {(p.record, p.rule) for p in problems}
    assert ("feature 1", "code-required") in rules
    assert ("feature 2 (code 7)", "code-unique") in rules
    assert ("feature 3 (code 7)", "code-unique") in rules
    assert ("feature 4 (code 8)", "polygon-geometry") in rules
    assert ("feature 5 (code 9)", "geometry-readable") in rules


def test_not_json_and_not_a_feature_collection(tmp_path: Path) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_features(broken)
    assert caught.value.problems[0].rule == "geojson-syntax"
    other = tmp_path / "point.geojson"
    other.write_text('{"type": "Point", "coordinates": [1, 2]}', encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_features(other)
    assert caught.value.problems[0].rule == "geojson-type"


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "areas.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    assert caught.value.problems[0].rule == "known-format"


def test_option_conflicts_are_named() -> None:
    problems = _options(parent_code="1", parent_field="p").problems()
    assert [(p.field, p.rule) for p in problems] == [("parent_field", "one-parent-source")]
    assert _options(level=Level.UNIT_GRID).problems()[0].rule == "area-level"


def test_parent_from_code_prefix(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "cd.geojson", [feature(DISTRICTS["110101"], BoroCD=311)])
    options = _options(
        level=Level.SUBDISTRICT, code_field="BoroCD", name_field=None, parent_from_code_prefix=1
    )
    (draft,), _, _ = draft_areas(read_features(path), options)
    assert (draft.code, draft.parent_code, draft.name_zh) == ("311", "3", None)


def test_unit_grid_codes_must_be_15_digits_and_match_their_community(tmp_path: Path) -> None:
    g = COMMUNITIES["110101001001"]
    path = write_geojson(
        tmp_path / "grids.geojson",
        [
            feature(g, code="110101001001001", community="110101001001"),
            feature(g, code="11010100100101", community="110101001001"),
            feature(g, code="110101001002001", community="110101001001"),
            feature(g, code="110101001001000", community="110101001001"),
        ],
    )
    options = UnitGridImportOptions(
        code_field="code", community_field="community", valid_from=START
    )
    drafts, problems, _ = draft_unit_grids(read_features(path), options)
    assert [d.code for d in drafts] == ["110101001001001"]
    assert [(p.record, p.rule) for p in problems] == [
        ("feature 2 (code 11010100100101)", "unit-grid-code"),
        ("feature 3 (code 110101001002001)", "unit-grid-code"),
        ("feature 4 (code 110101001001000)", "unit-grid-code"),
    ]
    assert "15 digits" in problems[0].message
    assert "110101001001" in problems[1].message


def _write_ogr(path: Path, driver: str, encoding: str) -> None:
    import numpy as np
    import pyogrio.raw

    geoms = np.array([DISTRICTS["110101"], DISTRICTS["110102"]], dtype=object)
    pyogrio.raw.write(
        path,
        shapely.to_wkb(geoms),
        [
            np.array(["110101", "110102"], dtype=object),
            np.array(["东城区", "西城区"], dtype=object),
        ],
        fields=["code", "name"],
        geometry_type="Polygon",
        crs="EPSG:4326",
        driver=driver,
        encoding=encoding,
    )


@pytest.mark.parametrize(("name", "driver"), [("d.shp", "ESRI Shapefile"), ("d.gpkg", "GPKG")])
def test_shapefile_and_geopackage_are_read_with_pyogrio(
    tmp_path: Path, name: str, driver: str
) -> None:
    path = tmp_path / name
    _write_ogr(path, driver, "UTF-8")
    drafts, problems, _ = draft_areas(read_features(path), _options())
    assert problems == []
    assert [(d.code, d.name_zh) for d in drafts] == [("110101", "东城区"), ("110102", "西城区")]


def test_gbk_shapefile_without_cpg_needs_its_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.shp"
    _write_ogr(path, "ESRI Shapefile", "GB18030")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    assert (caught.value.problems[0].field, caught.value.problems[0].rule) == (
        "encoding",
        "declared-encoding",
    )
    drafts, _, _ = draft_areas(read_features(path, encoding="GB18030"), _options())
    assert [d.name_zh for d in drafts] == ["东城区", "西城区"]


def test_repair_makes_a_bowtie_valid_and_reports_it(tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "d.geojson", [feature(BOWTIE, code="110199", name="b")])
    (draft,), problems, repairs = draft_areas(read_features(path), _options(repair=True))
    assert problems == []
    assert draft.geometry.is_valid and draft.geometry.geom_type in ("Polygon", "MultiPolygon")
    (repair,) = repairs
    assert repair.record == "feature 1 (code 110199)"
    assert "repaired Self-intersection" in repair.message and "area changed by" in repair.message
