"""Row rules of bulk imports: each bad value reported with its line, field and rule."""

from __future__ import annotations

from datetime import date

import pytest

from onegrid.assets.checks import CheckContext, check_batch
from onegrid.assets.sources import FIELDS, RawBatch, records_batch
from onegrid.assets.taxonomy import DEFAULT_TAXONOMY, read_taxonomy_file

CLASSES = {c.code: c for c in read_taxonomy_file(DEFAULT_TAXONOMY).categories}
TODAY = date(2026, 3, 2)
CONTEXT = CheckContext(CLASSES, TODAY, "test.csv", departments=frozenset({"water", "lamps"}))
GOOD = {
    "id": "1101010101000001",
    "class_code": "C0101",
    "name": "上水井盖 1",
    "lon": "116.3",
    "lat": "39.9",
    "owner": "water",
    "maintainer": "water",
    "state": "normal",
    "first_recorded": "2024-05-01",
}


def _batch(*rows: dict[str, str]) -> RawBatch:
    return records_batch([(n, r) for n, r in enumerate(rows, start=2)])


def _rules(row: dict[str, str], context: CheckContext = CONTEXT) -> set[tuple[str, str]]:
    checked = check_batch(_batch(row), context)
    assert all(p.line == 2 for p in checked.problems)
    return {(p.field, p.rule) for p in checked.problems}


def test_a_good_row_passes_parsed() -> None:
    checked = check_batch(_batch(GOOD), CONTEXT)
    assert checked.problems == []
    assert checked.lines == [2]
    assert checked.first_recorded == [date(2024, 5, 1)]
    assert (checked.lon[0], checked.lat[0]) == (116.3, 39.9)
    assert checked.data_sources == ["test.csv"]
    assert checked.maintainers == ["water"] and checked.competent_departments == [None]


def test_defaults_fill_what_a_row_leaves_out() -> None:
    row = {"class_code": "0115", "lon": "116.3", "lat": "39.9", "owner": "lamps"}
    checked = check_batch(_batch(row), CONTEXT)
    assert checked.problems == []
    assert checked.class_codes == ["C0115"]
    assert checked.names == ["路灯"]
    assert checked.states == ["normal"]
    assert checked.first_recorded == [TODAY]
    assert checked.ids == [""]


def test_the_class_is_read_from_the_id_when_not_given() -> None:
    checked = check_batch(_batch({**GOOD, "class_code": ""}), CONTEXT)
    assert checked.problems == [] and checked.class_codes == ["C0101"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": "110101010100001"}, ("id", "id_format")),
        ({"id": "1101010101000000"}, ("id", "id_format")),
        ({"class_code": "C9999"}, ("class_code", "known_class")),
        ({"class_code": "E0101"}, ("class_code", "component_class")),
        ({"class_code": "C0102"}, ("id", "id_matches_class")),
        ({"class_code": "", "id": ""}, ("class_code", "required")),
        ({"lon": ""}, ("lon", "number")),
        ({"lat": "north"}, ("lat", "number")),
        ({"lon": "200"}, ("lon", "coordinate_range")),
        ({"lat": "nan"}, ("lat", "coordinate_range")),
        ({"owner": ""}, ("owner", "required")),
        ({"owner": "nobody"}, ("owner", "known_department")),
        ({"maintainer": "x" * 65}, ("maintainer", "max_length")),
        ({"state": "wobbly"}, ("state", "known_state")),
        ({"first_recorded": "2024-13-01"}, ("first_recorded", "date_format")),
        ({"first_recorded": "yesterday"}, ("first_recorded", "date_format")),
        ({"first_recorded": "2027-01-01"}, ("first_recorded", "not_in_future")),
        ({"admin_code": "1101"}, ("admin_code", "admin_code_format")),
        ({"admin_code": "110102"}, ("admin_code", "id_matches_admin_code")),
        ({"name": "名" * 201}, ("name", "max_length")),
    ],
)
def test_each_broken_rule_is_reported(change: dict[str, str], expected: tuple[str, str]) -> None:
    assert expected in _rules({**GOOD, **change})


def test_every_broken_rule_of_a_row_is_reported_and_the_row_dropped() -> None:
    row = {**GOOD, "owner": "", "state": "wobbly", "lon": "x"}
    checked = check_batch(_batch(GOOD, row, GOOD), CONTEXT)
    assert {(p.line, p.field, p.rule) for p in checked.problems} == {
        (3, "owner", "required"),
        (3, "state", "known_state"),
        (3, "lon", "number"),
    }
    assert checked.lines == [2, 4]
    assert len(checked.lon) == 2


def test_departments_are_not_checked_without_a_list() -> None:
    context = CheckContext(CLASSES, TODAY, "test.csv", departments=None)
    assert _rules({**GOOD, "owner": "anyone"}, context) == set()


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-05-01", date(2024, 5, 1)),
        ("2024/5/1", date(2024, 5, 1)),
        ("20240501", date(2024, 5, 1)),
        ("2024-05-01T08:00:00+08:00", date(2024, 5, 1)),
        ("2024-05-01 08:00:00", date(2024, 5, 1)),
        ("2024.5.1", date(2024, 5, 1)),
    ],
)
def test_date_forms_registers_use(text: str, day: date) -> None:
    checked = check_batch(_batch({**GOOD, "first_recorded": text}), CONTEXT)
    assert checked.problems == [] and checked.first_recorded == [day]


def test_an_empty_batch_is_fine() -> None:
    empty = RawBatch([], {name: [] for name in FIELDS})
    assert len(check_batch(empty, CONTEXT)) == 0
