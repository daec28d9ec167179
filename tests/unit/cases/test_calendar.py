"""The working-time calendar on China's 2025–2026 schedule: holidays, make-up days, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.cases.config import build_calendar, case_rules
from onegrid.cases.domain.calendar import OutsideCalendarError, PeriodChange, WorkingCalendar
from onegrid.core.errors import InvalidInput

BJ = ZoneInfo("Asia/Shanghai")


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BJ)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return case_rules("Asia/Shanghai").calendar


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 1), False),  # New Year
        (date(2025, 1, 26), True),  # Sunday, make-up for Spring Festival
        (date(2025, 1, 28), False),
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday, make-up
        (date(2025, 4, 4), False),  # Qingming (Friday)
        (date(2025, 4, 27), True),  # Sunday, make-up for Labour Day
        (date(2025, 5, 5), False),
        (date(2025, 6, 2), False),  # Dragon Boat (Monday)
        (date(2025, 9, 28), True),  # Sunday, make-up for National Day
        (date(2025, 10, 8), False),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up
        (date(2025, 10, 12), False),  # an ordinary Sunday
        (date(2026, 1, 2), False),  # New Year 2026 runs Jan 1–3
        (date(2026, 1, 4), True),  # Sunday, make-up
        (date(2026, 2, 14), True),  # Saturday, make-up for Spring Festival
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),  # last day of the 9-day Spring Festival
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up
        (date(2026, 5, 9), True),  # Saturday, make-up for Labour Day
        (date(2026, 6, 19), False),  # Dragon Boat (Friday)
        (date(2026, 9, 20), True),  # Sunday, make-up for National Day
        (date(2026, 9, 25), False),  # Mid-Autumn (Friday)
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday, make-up
        (date(2026, 11, 23), True),  # an ordinary Monday
    ],
)
def test_working_days_follow_the_state_council_notices(
    cal: WorkingCalendar, day: date, working: bool
) -> None:
    assert cal.is_working_day(day) is working


def test_national_day_2025_jumps_the_whole_holiday(cal: WorkingCalendar) -> None:
    # Tuesday 30 Sep 16:00 + 4 working hours: 1.5 h that day, then Oct 1–8 off, then Thursday
    # 9 Oct from 08:30 for 2.5 h.
    assert cal.add_working(bj(2025, 9, 30, 16), timedelta(hours=4)) == bj(2025, 10, 9, 11)
    # The make-up Sunday 28 Sep counts: Friday 26 Sep 17:00 + 1 h ends on Sunday at 09:00.
    assert cal.add_working(bj(2025, 9, 26, 17), timedelta(hours=1)) == bj(2025, 9, 28, 9)
    # …and the make-up Saturday 11 Oct too.
    assert cal.add_working(bj(2025, 10, 10, 17), timedelta(hours=1)) == bj(2025, 10, 11, 9)


def test_spring_festival_2026(cal: WorkingCalendar) -> None:
    # Friday 13 Feb 17:00 + 1 h: the make-up Saturday 14 Feb, 09:00.
    assert cal.add_working(bj(2026, 2, 13, 17), timedelta(hours=1)) == bj(2026, 2, 14, 9)
    # Saturday 14 Feb 17:00 + 1 h: the 9-day holiday (15–23 Feb) is skipped.
    assert cal.add_working(bj(2026, 2, 14, 17), timedelta(hours=1)) == bj(2026, 2, 24, 9)
    assert cal.working_between(bj(2026, 2, 14, 8), bj(2026, 2, 25, 8)) == timedelta(hours=15)


def test_lunch_break_and_period_ends(cal: WorkingCalendar) -> None:
    monday = (2026, 3, 2)
    # 11:00 + 1 h = 12:00 (the limit runs out at the end of the period, not at 13:30).
    assert cal.add_working(bj(*monday, 11), timedelta(hours=1)) == bj(*monday, 12)
    assert cal.add_working(bj(*monday, 11), timedelta(hours=2)) == bj(*monday, 14, 30)
    assert cal.add_working(bj(*monday, 12, 30), timedelta(minutes=30)) == bj(*monday, 14)
    # Ending exactly at 17:30 stays at 17:30.
    assert cal.add_working(bj(*monday, 16), timedelta(hours=1.5)) == bj(*monday, 17, 30)
    # Started at night, the clock runs from the next morning.
    assert cal.add_working(bj(*monday, 22), timedelta(hours=1)) == bj(2026, 3, 3, 9, 30)
    assert cal.working_between(bj(*monday, 12), bj(*monday, 13, 30)) == timedelta()
    assert cal.working_between(bj(*monday), bj(2026, 3, 3)) == timedelta(hours=7.5)


def test_working_days_keep_the_time_of_day(cal: WorkingCalendar) -> None:
    # 15 working days from Monday 2 March 10:00 (no holidays): Monday 23 March 10:00.
    assert cal.add_working_days(bj(2026, 3, 2, 10), 15) == bj(2026, 3, 23, 10)
    assert cal.day_length_on(date(2026, 3, 2)) == timedelta(hours=7.5)


def test_zero_amount_and_answers_in_utc(cal: WorkingCalendar) -> None:
    sunday = bj(2026, 3, 1, 10)
    assert cal.add_working(sunday, timedelta()) == sunday
    assert cal.add_working(sunday, timedelta(hours=1)).tzinfo is UTC
    with pytest.raises(ValueError, match="non-negative"):
        cal.add_working(sunday, timedelta(hours=-1))
    with pytest.raises(ValueError, match="naive"):
        cal.working_between(datetime(2026, 3, 1), sunday)


def test_outside_the_calendar_is_refused() -> None:
    small = WorkingCalendar(BJ, first_day=date(2026, 1, 1), last_day=date(2026, 1, 31))
    with pytest.raises(OutsideCalendarError):
        small.working_between(bj(2025, 12, 31, 9), bj(2026, 1, 5, 9))
    with pytest.raises(OutsideCalendarError):
        small.add_working(bj(2026, 1, 30, 9), timedelta(days=3))


def test_periods_must_be_disjoint() -> None:
    with pytest.raises(ValueError, match="disjoint"):
        WorkingCalendar(BJ, periods=((time(8), time(12)), (time(11), time(13))))


def test_a_bad_calendar_file_names_every_problem() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_calendar(
            {
                "weekend": ["caturday"],
                "working_periods": [["nine", "5pm"]],
                "years": {2026: {"holidays": [{"from": "2026-13-01"}]}},
            },
            "Asia/Shanghai",
        )
    rules = {p.rule for p in caught.value.problems}
    assert {"weekday", "time_pair", "date"} <= rules
    with pytest.raises(InvalidInput, match="time zone"):
        build_calendar({}, "Mars/Olympus")


_instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 20), timezones=st.just(BJ)
)


@settings(max_examples=300, deadline=None)
@given(start=_instants, minutes=st.integers(min_value=0, max_value=60 * 24 * 20))
def test_add_working_and_working_between_are_inverse(start: datetime, minutes: int) -> None:
    cal = case_rules("Asia/Shanghai").calendar
    amount = timedelta(minutes=minutes)
    end = cal.add_working(start, amount)
    assert cal.working_between(start, end) == amount
    # The earliest such instant: a second earlier, less working time has passed (if any needed).
    if minutes:
        assert cal.working_between(start, end - timedelta(seconds=1)) < amount


# Summer hours from 1 May: 08:00–12:00 and 14:00–18:00 (8 h a day instead of 7.5 h).
SUMMER = PeriodChange(date(2026, 5, 1), ((time(8), time(12)), (time(14), time(18))), "summer")
WINTER = PeriodChange(date(2026, 10, 1), ((time(8, 30), time(12)), (time(13, 30), time(17, 30))))


@pytest.fixture(scope="module")
def seasons() -> WorkingCalendar:
    return WorkingCalendar(BJ, period_changes=[WINTER, SUMMER])  # order does not matter


def test_each_day_keeps_the_periods_in_force_on_it(seasons: WorkingCalendar) -> None:
    assert seasons.periods_on(date(2026, 4, 30))[1] == (time(13, 30), time(17, 30))
    assert seasons.periods_on(date(2026, 5, 1))[1] == (time(14), time(18))
    assert seasons.periods_on(date(2026, 9, 30))[1] == (time(14), time(18))
    assert seasons.periods_on(date(2026, 10, 1))[1] == (time(13, 30), time(17, 30))
    assert seasons.day_length_on(date(2026, 6, 1)) == timedelta(hours=8)
    assert seasons.day_length_on(date(2026, 3, 1)) == timedelta(hours=7.5)
    # 13:45 in June is the lunch break; in March it is working time.
    june, march = (2026, 6, 1), (2026, 3, 2)
    assert seasons.working_between(bj(*june, 12), bj(*june, 14)) == timedelta()
    assert seasons.working_between(bj(*march, 12), bj(*march, 14)) == timedelta(minutes=30)
    assert seasons.add_working(bj(*june, 11), timedelta(hours=2)) == bj(*june, 15)
    assert seasons.add_working(bj(*june, 17), timedelta(hours=1)) == bj(*june, 18)


def test_a_deadline_across_the_change_counts_each_day_by_its_own_periods(
    seasons: WorkingCalendar,
) -> None:
    # Wednesday 29 April 16:30 (7.5 h days), then 1–5 May are holidays in the real calendar
    # but not in this one: Thursday 30 April has 7.5 h, Friday 1 May 8 h under summer hours.
    start = bj(2026, 4, 29, 16, 30)
    assert seasons.working_between(start, bj(2026, 5, 1, 18)) == timedelta(hours=1 + 7.5 + 8)
    assert seasons.add_working(start, timedelta(hours=9)) == bj(2026, 5, 1, 8, 30)


def test_working_days_use_the_length_of_the_starting_day(seasons: WorkingCalendar) -> None:
    # Three working days from Monday 1 June 10:00 under summer hours end Thursday 10:00.
    assert seasons.add_working_days(bj(2026, 6, 1, 10), 3) == bj(2026, 6, 4, 10)
    assert seasons.working_days(bj(2026, 6, 1, 10), 2) == timedelta(hours=16)
    assert seasons.working_days(bj(2026, 3, 2, 10), 2) == timedelta(hours=15)


def test_changes_of_the_periods_are_checked() -> None:
    with pytest.raises(ValueError, match="two changes"):
        WorkingCalendar(BJ, period_changes=[SUMMER, SUMMER])
    with pytest.raises(ValueError, match="outside the calendar"):
        WorkingCalendar(BJ, period_changes=[PeriodChange(date(1999, 5, 1), SUMMER.periods)])
    with pytest.raises(ValueError, match="disjoint"):
        bad = ((time(8), time(12)), (time(11), time(13)))
        WorkingCalendar(BJ, period_changes=[PeriodChange(date(2026, 5, 1), bad)])


@settings(max_examples=200, deadline=None)
@given(start=_instants, minutes=st.integers(min_value=0, max_value=60 * 24 * 20))
def test_inverse_holds_across_changes_of_the_periods(start: datetime, minutes: int) -> None:
    cal = WorkingCalendar(BJ, period_changes=[SUMMER, WINTER])
    amount = timedelta(minutes=minutes)
    end = cal.add_working(start, amount)
    assert cal.working_between(start, end) == amount
    if minutes:
        assert cal.working_between(start, end - timedelta(seconds=1)) < amount


def test_a_calendar_document_with_summer_hours() -> None:
    document = {
        "working_periods": [["08:30", "12:00"], ["13:30", "17:30"]],
        "working_period_changes": [
            {
                "from": "2026-05-01",
                "name": "summer",
                "periods": [["08:00", "12:00"], ["14:00", "18:00"]],
            },
        ],
    }
    cal = build_calendar(document, "Asia/Shanghai")
    assert cal.period_changes == (SUMMER,)
    assert cal.day_length_on(date(2026, 5, 1)) == timedelta(hours=8)


def test_a_bad_change_of_the_periods_names_its_fields() -> None:
    document = {
        "working_period_changes": [
            {"from": "2026-05-01", "periods": [["08:30", "12:00"]]},
            {"from": "2026-05-01", "periods": [["08:30", "12:00"]]},
            {"from": "someday", "periods": [["nine", "12:00"]]},
            {"from": "2026-07-01", "periods": [["08:00", "12:00"], ["11:00", "13:00"]]},
            {"from": "1990-07-01", "periods": [["08:00", "12:00"]]},
            {"from": "2026-08-01", "periods": "all day"},
            "summer",
        ]
    }
    with pytest.raises(InvalidInput) as caught:
        build_calendar(document, "Asia/Shanghai")
    assert {(p.field, p.rule) for p in caught.value.problems} == {
        ("working_period_changes[1].from", "unique_date"),
        ("working_period_changes[2].from", "date"),
        ("working_period_changes[2].periods[0]", "time_pair"),
        ("working_period_changes[3].periods", "working_periods"),
        ("working_period_changes[4].from", "date_range"),
        ("working_period_changes[5].periods", "time_pairs"),
        ("working_period_changes[6]", "mapping"),
    }
