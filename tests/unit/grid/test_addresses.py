"""The standard address register's rules without a database: the matching form, reading a
file row by row, and what a re-import does to a stored address."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from onegrid.grid.addresses import StandardAddress, normalise_address
from onegrid.grid.crs import parse_crs
from onegrid.grid.importing.addresses import (
    AddressChange,
    PlacedAddress,
    plan_addresses,
    read_address_csv,
    read_address_features,
)
from onegrid.grid.importing.reading import SourceFeature, SourceFile

WGS84 = parse_crs("wgs84")
HEADER = "id,address,lon,lat,crs"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("示范路12号", "示范路 12 号"),
        ("示范路12号", "示范路１２号"),  # full-width digits
        ("示范路12号", "示范路，12号。"),  # Chinese punctuation
        ("（东湖区）和平路1号", "(东湖区)和平路1号"),
        ("和平路1号", "和平路·1号"),
        ("Block 3, Room 12", "block 3 room 12"),
        ("Block 3 Room 12", "ＢＬＯＣＫ　３　ＲＯＯＭ　１２"),  # full-width Latin and space
        ("3-2-101", "3 2 101"),
    ],
)
def test_spellings_of_one_address_share_a_form(one: str, other: str) -> None:
    assert normalise_address(one) == normalise_address(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Block 3 Room 12", "Block 31 Room 2"),  # a separator between numbers is kept
        ("3-21-01", "32-10-1"),
        ("示范路1号", "示范路10号"),
        ("示范路1号", "示范街1号"),
    ],
)
def test_different_addresses_keep_different_forms(one: str, other: str) -> None:
    assert normalise_address(one) != normalise_address(other)


def test_punctuation_alone_is_no_address() -> None:
    assert normalise_address(" ，。 - ") == ""


def test_csv_rows_are_read_or_refused_by_line_field_and_rule() -> None:
    drafts, problems = read_address_csv(
        [
            HEADER,
            "A1,示范路1号,116.305,39.91,",
            "A2,示范路2号,east,39.91,",
            ",示范路3号,116.305,39.91,",
            "A4,，，,116.305,39.91,",
            "A5,示范路5号,116.305,39.91,mars-2",
            "A1,示范路6号,116.305,39.91,",
            "A7,示范路 1 号,116.305,39.91,",
            "A 8,示范路8号,116.305,39.91,",
            "A9,示范路9号,116.305,39.91,GCJ-02",
        ],
        WGS84,
    )
    assert [(p.record, p.field, p.rule) for p in problems] == [
        ("line 3 (address A2)", "lon", "number"),
        ("line 4", "id", "required"),
        ("line 5 (address A4)", "address", "required"),
        ("line 6 (address A5)", "crs", "known-crs"),
        ("line 9 (address A 8)", "id", "address-id-format"),
        ("line 7 (address A1)", "id", "address-id-unique"),
        ("line 8 (address A7)", "address", "address-unique"),
    ]
    assert [(d.address_id, d.crs.name) for d in drafts] == [("A1", "wgs84"), ("A9", "gcj02")]
    assert "line 2" in problems[-1].message  # the duplicate names the first row


def test_a_file_without_the_columns_is_refused_by_column() -> None:
    _, problems = read_address_csv(["id,text,x,y", "A1,示范路1号,1,2"], WGS84)
    assert [(p.field, p.rule) for p in problems] == [
        ("address", "required-column"),
        ("lon", "required-column"),
        ("lat", "required-column"),
    ]
    _, problems = read_address_csv([HEADER], WGS84)
    assert [(p.field, p.rule) for p in problems] == [("file", "rows-required")]


def test_geojson_features_must_be_points() -> None:
    source = SourceFile(
        "a.geojson",
        [
            SourceFeature(1, {"id": "A1", "address": "示范路1号"}, shapely.Point(116.3, 39.9)),
            SourceFeature(2, {"id": "A2", "address": "示范路2号"}, shapely.box(0, 0, 1, 1)),
            SourceFeature(3, {"id": "A3", "address": "示范路3号"}, None, "no geometry"),
            SourceFeature(4, {"id": 4, "address": "示范路4号"}, shapely.Point(116.3, 39.9)),
        ],
    )
    drafts, problems = read_address_features(source, WGS84)
    assert [(p.record, p.rule) for p in problems] == [
        ("feature 2 (address A2)", "point-geometry"),
        ("feature 3 (address A3)", "point-geometry"),
    ]
    assert [(d.address_id, d.x, d.y) for d in drafts] == [
        ("A1", 116.3, 39.9),
        ("4", 116.3, 39.9),  # a numeric id is read as its text
    ]


def _placed(text: str, lon: float = 116.305, grid: str = "110101001001001") -> PlacedAddress:
    [draft], _ = read_address_csv([HEADER, f"A1,{text},{lon},39.91,"], WGS84)
    return PlacedAddress(draft, lon, 39.91, grid, "110101001001")


def _stored(text: str, since: date, lon: float = 116.305) -> dict[str, tuple[int, StandardAddress]]:
    return {
        "A1": (
            7,
            StandardAddress("A1", text, lon, 39.91, "110101001001001", "110101001001", since, None),
        )
    }


def test_a_reimport_keeps_corrects_or_versions_an_address() -> None:
    day, later = date(2026, 1, 1), date(2026, 6, 1)
    cases = [
        (_placed("示范路1号"), day, {}, AddressChange.CREATE),
        (_placed("示范路1号"), day, _stored("示范路1号", day), AddressChange.UNCHANGED),
        (_placed("示范路1号"), later, _stored("示范路1号", day), AddressChange.UNCHANGED),
        (_placed("示范路1号", 116.306), day, _stored("示范路1号", day), AddressChange.CORRECT),
        (_placed("示范路一号"), later, _stored("示范路1号", day), AddressChange.VERSION),
        (_placed("示范路1号", grid="110101001001002"), later, _stored("示范路1号", day),
         AddressChange.VERSION),
    ]  # fmt: skip
    for placed, on, stored, expected in cases:
        plan, problems = plan_addresses([placed], on, stored, {})
        assert not problems and [p.change for p in plan] == [expected], (placed, on)
        assert plan[0].stored_row == (7 if stored else None)


def test_a_version_may_not_start_before_the_stored_one() -> None:
    _, problems = plan_addresses(
        [_placed("示范路2号")], date(2025, 1, 1), _stored("示范路1号", date(2026, 1, 1)), {}
    )
    assert [(p.field, p.rule) for p in problems] == [("valid_from", "valid-from-order")]


def test_an_address_another_id_holds_is_refused() -> None:
    placed = _placed("示范路 1 号")
    _, problems = plan_addresses([placed], date(2026, 1, 1), {}, {placed.draft.normalised: "B9"})
    assert [(p.rule, p.message) for p in problems] == [
        ("address-unique", "the register already has this address as id B9")
    ]
