"""Time comes from a clock object so that rules about deadlines can be tested."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests and replays."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


def city_today(clock: Clock, timezone: str) -> date:
    """The date on the clock in the city's time zone (its 'today': a UTC date is a day off for
    eight hours of every Beijing day)."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def ensure_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: OneGrid stores timezone-aware UTC only")
    return value.astimezone(UTC)
