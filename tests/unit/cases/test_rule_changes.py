"""Saving the city's rules: what cases already ran under stays as it was; the rest may change."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from onegrid.cases.config import DATA
from onegrid.cases.domain.rule_changes import (
    as_json_document,
    check_calendar_change,
    check_time_limit_change,
)
from onegrid.core.errors import InvalidInput
from onegrid.core.yamlfile import read_yaml
from tests.rule_documents import new_limits_version

TODAY = date(2026, 3, 2)  # a Monday
TZ = "Asia/Shanghai"


@pytest.fixture
def limits() -> dict[str, Any]:
    return as_json_document(read_yaml(DATA / "time_limits.yaml"))


@pytest.fixture
def calendar() -> dict[str, Any]:
    return as_json_document(read_yaml(DATA / "calendar_cn_2025_2026.yaml"))


def _rules(exc: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.value.problems}


def _new_version(label: str, valid_from: str) -> dict[str, Any]:
    return new_limits_version(
        label, valid_from, rules=[{"category": "E0102", "handle": "3 working_hours"}]
    )


def test_the_document_in_force_may_be_saved_again(limits: dict[str, Any]) -> None:
    book = check_time_limit_change(limits, copy.deepcopy(limits), TODAY)
    assert [v.version for v in book.versions] == ["2025.01", "2026.11"]


def test_a_version_starting_after_today_is_added(limits: dict[str, Any]) -> None:
    proposed = copy.deepcopy(limits)
    proposed["versions"].append(_new_version("2026.04", "2026-03-03"))
    book = check_time_limit_change(limits, proposed, TODAY)
    assert book.version_on(TODAY).version == "2025.01"
    assert book.version_on(date(2026, 3, 3)).version == "2026.04"


def test_a_version_in_force_may_not_change_nor_go(limits: dict[str, Any]) -> None:
    changed = copy.deepcopy(limits)
    changed["versions"][0]["defaults"]["handle"] = "4 working_days"
    with pytest.raises(InvalidInput) as exc:
        check_time_limit_change(limits, changed, TODAY)
    assert _rules(exc) == {("versions[0]", "version_in_use_unchanged")}
    assert "2025.01" in exc.value.problems[0].message

    gone = copy.deepcopy(limits)
    gone["versions"] = [_new_version("2026.04", "2026-04-01")]
    with pytest.raises(InvalidInput) as exc:
        check_time_limit_change(limits, gone, TODAY)
    assert _rules(exc) == {("versions", "version_in_use_kept")}


def test_the_same_rules_written_another_way_are_no_change(limits: dict[str, Any]) -> None:
    proposed = copy.deepcopy(limits)
    proposed["versions"][0]["defaults"]["dispatch"] = {"amount": 2, "unit": "working_hours"}
    check_time_limit_change(limits, proposed, TODAY)


def test_a_new_version_must_start_after_today(limits: dict[str, Any]) -> None:
    proposed = copy.deepcopy(limits)
    proposed["versions"].append(_new_version("2026.03", TODAY.isoformat()))
    with pytest.raises(InvalidInput) as exc:
        check_time_limit_change(limits, proposed, TODAY)
    assert _rules(exc) == {("versions[2].valid_from", "starts_after_today")}


def test_a_future_version_may_change_or_go(limits: dict[str, Any]) -> None:
    current = limits  # 2026.11 starts on 2026-11-01
    edited = copy.deepcopy(current)
    edited["versions"][1]["valid_from"] = "2026-05-01"
    edited["versions"][1]["defaults"]["handle"] = "1 working_days"
    assert check_time_limit_change(current, edited, TODAY).versions[1].valid_from == date(
        2026, 5, 1
    )
    gone = copy.deepcopy(current)
    del gone["versions"][1]
    check_time_limit_change(current, gone, TODAY)
    # but not into the past
    edited["versions"][1]["valid_from"] = "2026-03-01"
    with pytest.raises(InvalidInput) as exc:
        check_time_limit_change(current, edited, TODAY)
    assert _rules(exc) == {("versions[1].valid_from", "starts_after_today")}


def test_every_broken_rule_is_named_at_once(limits: dict[str, Any]) -> None:
    proposed = copy.deepcopy(limits)
    proposed["versions"][0]["rules"][0]["handle"] = "3 fortnights"
    proposed["versions"].append(_new_version("2026.02", "2026-02-01"))
    proposed["max_extensions"] = -1
    with pytest.raises(InvalidInput) as exc:
        check_time_limit_change(limits, proposed, TODAY)
    assert _rules(exc) >= {
        ("versions[0].rules[0].handle", "limit_unit"),
        ("versions[0]", "version_in_use_unchanged"),
        ("versions[2].valid_from", "starts_after_today"),
        ("max_extensions", "non_negative_int"),
    }


def test_a_document_of_another_shape_is_named(limits: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_time_limit_change(
            limits,
            {"versions": [{"version": "x", "valid_from": "2027-01-01", "defaults": []}]},
            TODAY,
        )
    assert ("document", "shape") in _rules(exc) or exc.value.problems


def _year(doc: dict[str, Any], year: str) -> dict[str, Any]:
    spec: dict[str, Any] = doc["years"][year]
    return spec


def test_a_holiday_from_today_on_may_be_added_or_taken_out(calendar: dict[str, Any]) -> None:
    proposed = copy.deepcopy(calendar)
    _year(proposed, "2026")["holidays"].append(
        {"name": "City Day", "name_zh": "城市日", "from": "2026-03-02", "to": "2026-03-03"}
    )
    cal = check_calendar_change(calendar, proposed, TODAY, TZ)
    assert not cal.is_working_day(date(2026, 3, 2)) and not cal.is_working_day(date(2026, 3, 3))
    later = copy.deepcopy(calendar)
    _year(later, "2026")["holidays"] = [
        h for h in _year(later, "2026")["holidays"] if h["name"] != "National Day"
    ]
    assert check_calendar_change(calendar, later, TODAY, TZ).is_working_day(date(2026, 10, 8))


def test_days_before_today_keep_their_status(calendar: dict[str, Any]) -> None:
    proposed = copy.deepcopy(calendar)
    holidays = _year(proposed, "2026")["holidays"]
    holidays.append({"name": "Late", "from": "2026-02-26", "to": "2026-02-27"})  # Thu, Fri
    spring = next(i for i, h in enumerate(holidays) if h["name"] == "Spring Festival")
    holidays[spring]["to"] = "2026-02-24"  # was the 23rd: a working Tuesday becomes a holiday
    del _year(proposed, "2025")["make_up_working_days"][0]  # 2025-01-26, a Sunday worked
    with pytest.raises(InvalidInput) as exc:
        check_calendar_change(calendar, proposed, TODAY, TZ)
    found = {p.field: p for p in exc.value.problems}
    assert set(found) == {
        f"years.2026.holidays[{len(holidays) - 1}]",
        f"years.2026.holidays[{spring}]",
        "years.2025",
    }
    assert all(p.rule == "past_days_unchanged" for p in exc.value.problems)
    late = found[f"years.2026.holidays[{len(holidays) - 1}]"].message
    assert "2026-02-26, 2026-02-27" in late
    assert "2025-01-26" in found["years.2025"].message


def test_the_weekend_and_daily_periods_stay(calendar: dict[str, Any]) -> None:
    proposed = copy.deepcopy(calendar)
    proposed["weekend"] = ["sunday"]
    proposed["working_periods"] = [["09:00", "12:00"], ["13:30", "17:30"]]
    with pytest.raises(InvalidInput) as exc:
        check_calendar_change(calendar, proposed, TODAY, TZ)
    assert _rules(exc) == {
        ("weekend", "past_days_unchanged"),
        ("working_periods", "working_periods_unchanged"),
    }


def test_a_day_both_holiday_and_make_up_day_is_named(calendar: dict[str, Any]) -> None:
    proposed = copy.deepcopy(calendar)
    _year(proposed, "2026")["holidays"].append({"name": "X", "from": "2026-10-10"})
    with pytest.raises(InvalidInput) as exc:
        check_calendar_change(calendar, proposed, TODAY, TZ)
    assert _rules(exc) == {("years.2026", "holiday_or_make_up")}


SUMMER_HOURS = [["08:30", "12:00"], ["14:00", "18:00"]]


def test_new_working_hours_start_after_today(calendar: dict[str, Any]) -> None:
    proposed = copy.deepcopy(calendar)
    proposed["working_period_changes"] = [{"from": "2026-05-01", "periods": SUMMER_HOURS}]
    cal = check_calendar_change(calendar, proposed, TODAY, TZ)
    assert cal.periods_on(date(2026, 5, 1))[1][0].hour == 14
    # Tomorrow is after today too.
    proposed["working_period_changes"] = [{"from": "2026-03-03", "periods": SUMMER_HOURS}]
    check_calendar_change(calendar, proposed, TODAY, TZ)


def test_working_hours_in_force_up_to_today_stay(calendar: dict[str, Any]) -> None:
    current = copy.deepcopy(calendar)
    current["working_period_changes"] = [{"from": "2026-02-01", "periods": SUMMER_HOURS}]
    starts_today = copy.deepcopy(current)
    starts_today["working_period_changes"].append(
        {"from": "2026-03-02", "periods": [["09:00", "17:00"]]}
    )
    moved = copy.deepcopy(current)
    moved["working_period_changes"] = [{"from": "2026-02-10", "periods": SUMMER_HOURS}]
    removed = copy.deepcopy(current)
    removed["working_period_changes"] = []
    cases = [
        (starts_today, {("working_period_changes[1]", "working_periods_unchanged")}),
        # 1–9 February would go back to the old hours.
        (moved, {("working_period_changes", "working_periods_unchanged")}),
        (removed, {("working_period_changes", "working_periods_unchanged")}),
    ]
    for proposed, expected in cases:
        with pytest.raises(InvalidInput) as exc:
            check_calendar_change(current, proposed, TODAY, TZ)
        assert _rules(exc) == expected
    # The same periods again from a later date change nothing, so they may be added.
    again = copy.deepcopy(current)
    again["working_period_changes"].append({"from": "2026-02-20", "periods": SUMMER_HOURS})
    check_calendar_change(current, again, TODAY, TZ)
