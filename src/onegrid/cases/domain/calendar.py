"""The working-time calendar: working days, public holidays, make-up days and daily periods.

Time limits count working time (工作时 / 工作日). The calendar turns an instant into "working
microseconds since the start of its span", W(t), with a table of running totals per day, so that
``working_between(a, b) = W(b) - W(a)`` and ``add_working(t, d)`` (the earliest instant whose W
reaches W(t) + d) each cost one bisection: the create path computes a deadline per case.

The daily periods may change from a date on (summer hours, a new office schedule): each day
keeps the periods in force on it, so the hours already worked never change meaning.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
DEFAULT_PERIODS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
DEFAULT_WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


class OutsideCalendarError(ValueError):
    """An instant outside the span the calendar was built for."""


def _us_of_day(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


def _time_of_day(us: int) -> time:
    seconds, micro = divmod(us, _US_PER_SECOND)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def period_spans(periods: Sequence[tuple[time, time]]) -> tuple[tuple[int, int], ...]:
    """Periods as sorted microsecond spans of the day; ``ValueError`` unless they are
    increasing, disjoint and at least one."""
    spans = sorted((_us_of_day(a), _us_of_day(b)) for a, b in periods)
    for (a, b), nxt in zip(spans, [*spans[1:], None], strict=True):
        if b <= a or (nxt is not None and nxt[0] < b):
            raise ValueError(f"working periods must be increasing and disjoint: {periods}")
    if not spans:
        raise ValueError("a calendar needs at least one working period")
    return tuple(spans)


@dataclass(frozen=True)
class PeriodChange:
    """New daily working periods, in force from ``first`` until the next change."""

    first: date
    periods: tuple[tuple[time, time], ...]
    name: str = ""


@dataclass(frozen=True)
class Holiday:
    """A public holiday, inclusive of both ends, as a State Council notice states it."""

    name: str
    first: date
    last: date

    def days(self) -> list[date]:
        return [self.first + timedelta(n) for n in range((self.last - self.first).days + 1)]


class WorkingCalendar:
    """Working days and daily working periods of one city, in its time zone.

    A day is a working day when it is a make-up working day (调休上班), or when it is neither a
    weekend day nor a public holiday. ``periods`` are the day's working hours, e.g. 08:30–12:00
    and 13:30–17:30 (7.5 h). Days before ``first_day`` or after ``last_day`` are refused rather
    than guessed.
    """

    def __init__(
        self,
        tz: tzinfo,
        *,
        periods: Sequence[tuple[time, time]] = DEFAULT_PERIODS,
        period_changes: Iterable[PeriodChange] = (),
        holidays: Iterable[date] = (),
        make_up_days: Iterable[date] = (),
        weekend: Iterable[int] = DEFAULT_WEEKEND,
        first_day: date = FIRST_DAY,
        last_day: date = LAST_DAY,
    ) -> None:
        self.tz = tz
        self.periods = period_spans(periods)
        changes = sorted(period_changes, key=lambda c: c.first)
        for a, b in itertools.pairwise(changes):
            if a.first == b.first:
                raise ValueError(f"two changes of the working periods on {a.first}")
        for c in changes:
            if not first_day < c.first <= last_day:
                raise ValueError(
                    f"a change of the working periods on {c.first} is outside the calendar "
                    f"({first_day} to {last_day})"
                )
        self.period_changes = tuple(changes)
        # Each distinct set of periods once; a day refers to its set by index.
        self._schedules: list[tuple[tuple[int, int], ...]] = [self.periods]
        kinds = [0]  # the schedule in force from the first day, then from each change
        for c in changes:
            spans = period_spans(c.periods)
            if spans not in self._schedules:
                self._schedules.append(spans)
            kinds.append(self._schedules.index(spans))
        starts = [first_day.toordinal()] + [c.first.toordinal() for c in changes]
        self._lengths = [sum(b - a for a, b in spans) for spans in self._schedules]
        self.holidays = frozenset(holidays)
        self.make_up_days = frozenset(make_up_days)
        both = self.holidays & self.make_up_days
        if both:
            raise ValueError(f"days both holiday and make-up working day: {sorted(both)}")
        self.weekend = frozenset(weekend)
        self.first_day = first_day
        self.last_day = last_day
        self._base = first_day.toordinal()
        n = last_day.toordinal() - self._base + 1
        self._working: list[bool] = []
        self._schedule: list[int] = []
        # _start[i]: working µs before day i; _end[i]: after it. Both never decrease.
        self._start: list[int] = []
        self._end: list[int] = []
        total = 0
        for i in range(n):
            ordinal = self._base + i
            k = kinds[bisect.bisect_right(starts, ordinal) - 1]
            working = self._is_working(date.fromordinal(ordinal))
            self._working.append(working)
            self._schedule.append(k)
            self._start.append(total)
            total += self._lengths[k] if working else 0
            self._end.append(total)

    def _is_working(self, day: date) -> bool:
        if day in self.make_up_days:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def periods_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The working periods in force on ``day`` (whether or not it is a working day)."""
        return tuple(
            (_time_of_day(a), _time_of_day(b))
            for a, b in self._schedules[self._schedule[self._index(day)]]
        )

    def day_length_on(self, day: date) -> timedelta:
        """The length of a working day under the periods in force on ``day``."""
        return timedelta(microseconds=self._lengths[self._schedule[self._index(day)]])

    def is_working_day(self, day: date) -> bool:
        return self._working[self._index(day)]

    def _index(self, day: date) -> int:
        i = day.toordinal() - self._base
        if not 0 <= i < len(self._working):
            raise OutsideCalendarError(
                f"{day} is outside the working calendar ({self.first_day} to {self.last_day})"
            )
        return i

    def _in_day(self, i: int, us: int) -> int:
        done = 0
        for a, b in self._schedules[self._schedule[i]]:
            if us <= a:
                break
            done += min(us, b) - a
        return done

    def _w(self, when: datetime) -> int:
        if when.tzinfo is None:
            raise ValueError("naive datetime: the calendar needs timezone-aware instants")
        local = when.astimezone(self.tz)
        i = self._index(local.date())
        if not self._working[i]:
            return self._start[i]
        return self._start[i] + self._in_day(i, _us_of_day(local.time()))

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (negative if ``end`` is earlier)."""
        return timedelta(microseconds=self._w(end) - self._w(start))

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant by which ``amount`` of working time has passed since ``start``.

        A limit that runs out exactly at the end of a period ends then (17:30), not at the start
        of the next one. The answer is in UTC.
        """
        need = amount // timedelta(microseconds=1)
        if need < 0:
            raise ValueError("add_working takes a non-negative amount")
        if need == 0:
            return start.astimezone(UTC)
        target = self._w(start) + need
        i = bisect.bisect_left(self._end, target)
        if i >= len(self._end):
            raise OutsideCalendarError(
                f"the deadline falls after {self.last_day}, the calendar's end"
            )
        left = target - self._start[i]
        for a, b in self._schedules[self._schedule[i]]:
            if left <= b - a:
                day = date.fromordinal(self._base + i)
                local = datetime.combine(day, time(), self.tz) + timedelta(microseconds=a + left)
                return local.astimezone(UTC)
            left -= b - a
        raise AssertionError("unreachable: the day's periods cover its working length")

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """``days`` working days, each as long as a working day on the day ``start`` falls on:
        15 working days from Monday 10:00 end at 10:00 on the 15th working day after it (while
        the periods stay the same)."""
        return self.add_working(start, self.working_days(start, days))

    def working_days(self, start: datetime, days: float) -> timedelta:
        """``days`` working days as working time, counted with the periods in force on the
        local day of ``start``."""
        return self.day_length_on(start.astimezone(self.tz).date()) * days
