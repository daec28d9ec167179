"""The window of decision times the corrections are listed for, as the console and the API
read it: dates or dates and times, the city's time without an offset, ``until`` after ``since``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier.corrections import decided_window

CITY = "Asia/Shanghai"


def test_dates_count_whole_days_in_the_citys_time() -> None:
    start, end = decided_window("2026-03-01", "2026-03-01", CITY)
    assert start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 16, tzinfo=UTC)  # the next day's start, excluded


def test_a_time_with_an_offset_is_kept_as_given() -> None:
    start, end = decided_window("2026-03-01T08:00Z", None, CITY)
    assert (start, end) == (datetime(2026, 3, 1, 8, tzinfo=UTC), None)
    assert decided_window(None, None, CITY) == (None, None)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("March", None, [("since", "iso_date")]),
        (None, "2026-02-30", [("until", "iso_date")]),
        ("soon", "later", [("since", "iso_date"), ("until", "iso_date")]),
        ("2026-03-02", "2026-03-01", [("until", "end_not_before_start")]),
        ("2026-03-01T10:00", "2026-03-01T10:00", [("until", "end_not_before_start")]),
    ],
)
def test_bad_bounds_are_named_together(
    since: str | None, until: str | None, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        decided_window(since, until, CITY)
    assert [(p.field, p.rule) for p in refused.value.problems] == expected


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # Year 1 in the city's time (UTC+8) is before year 1 in UTC; 9999-12-31 counted whole
        # ends in year 10000; 23:00 at UTC-5 is the next day, in year 10000, in UTC.
        ("0001-01-01", None, [("since", "range")]),
        (None, "0001-01-01T00:00", [("until", "range")]),
        ("9999-12-31T23:00-05:00", None, [("since", "range")]),
        (None, "9999-12-31", [("until", "range")]),
        ("0001-01-01", "9999-12-31", [("since", "range"), ("until", "range")]),
    ],
)
def test_times_no_utc_datetime_holds_are_out_of_range(
    since: str | None, until: str | None, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        decided_window(since, until, CITY)
    assert [(p.field, p.rule) for p in refused.value.problems] == expected


def test_the_extremes_in_utc_are_kept_in_utc() -> None:
    start, end = decided_window("0001-01-01T00:00Z", "9999-12-31T23:59:59Z", CITY)
    assert start == datetime(1, 1, 1, tzinfo=UTC)
    assert end == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert start.utcoffset() == end.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "sent",
    ["2026-03-01T08:00 08:00", "2026-03-01T08:00:00 0800", " 2026-03-01T08:00:00.000 08 "],
)
def test_an_offsets_plus_read_as_a_space_is_a_plus(sent: str) -> None:
    # A + typed into a query string unencoded arrives as a space.
    start, _ = decided_window(sent, None, CITY)
    assert start == datetime(2026, 3, 1, 0, tzinfo=UTC)


def test_a_space_between_date_and_time_is_still_a_separator() -> None:
    start, _ = decided_window("2026-03-01 08:00", None, CITY)  # the city's time: UTC+8
    assert start == datetime(2026, 3, 1, 0, tzinfo=UTC)
