"""Periods: a day, week, month or custom span of local calendar days, as UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onegrid.core.errors import FieldProblem, InvalidInput

GRAINS = ("day", "week", "month", "period")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last`` inclusive, in the city's time zone."""

    first: date
    last: date
    tz: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInput(
                FieldProblem(
                    "end",
                    "end_not_before_start",
                    f"the period ends ({self.last}) before it starts ({self.first})",
                )
            )

    @classmethod
    def month(cls, text: str, tz: str = "Asia/Shanghai") -> Period:
        m = _MONTH.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise InvalidInput(
                FieldProblem("month", "year_month", f"not a month YYYY-MM: {text!r}")
            )
        first = date(int(m.group(1)), int(m.group(2)), 1)
        return cls(first, _next_month(first) - timedelta(days=1), tz)

    @property
    def label(self) -> str:
        if self.first.day == 1 and self.last == _next_month(self.first) - timedelta(days=1):
            return self.first.strftime("%Y-%m")
        return f"{self.first}..{self.last}"

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, time(), ZoneInfo(self.tz)).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self._at(self.first)

    @property
    def end(self) -> datetime:
        return self._at(self.last + timedelta(days=1))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise InvalidInput(
            FieldProblem("grain", "known_grain", f"grain must be one of {', '.join(GRAINS)}")
        )
    return grain
