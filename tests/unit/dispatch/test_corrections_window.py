"""The window of decision times the corrections are listed for, as the console and the API
read it: dates or dates and times, the city's time without an offset, ``until`` after ``since``."""

from __future__ import annotations

from datetime import UTC, datetime

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
