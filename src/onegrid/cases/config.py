"""The cases context's settings and rule files: the working calendar and the time limits.

Both files are data a city replaces (``ONEGRID_CASES_CALENDAR_FILE``,
``ONEGRID_CASES_TIME_LIMITS_FILE``); the defaults ship in ``cases/data``. They are read once per
process and kept, since the create path needs them for every case.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.timelimits import TimeLimitBook, build_time_limit_book
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.yamlfile import read_yaml

DATA = Path(__file__).resolve().parent / "data"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class CasesSettings(BaseSettings):
    """``ONEGRID_CASES_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="ONEGRID_CASES_", extra="ignore", frozen=True)

    calendar_file: Path = DATA / "calendar_cn_2025_2026.yaml"
    time_limits_file: Path = DATA / "time_limits.yaml"
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = Field(default=60.0, gt=0)


@lru_cache(maxsize=1)
def cases_settings() -> CasesSettings:
    return CasesSettings()


def _day(value: Any, where: str, problems: list[FieldProblem]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(FieldProblem(where, "date", f"not a date: {value!r}"))
        return None


def _holidays(data: dict[str, Any], problems: list[FieldProblem]) -> tuple[set[date], set[date]]:
    holidays: set[date] = set()
    make_up: set[date] = set()
    for year, spec in (data.get("years") or {}).items():
        for i, h in enumerate((spec or {}).get("holidays") or []):
            where = f"years.{year}.holidays[{i}]"
            first = _day(h.get("from"), f"{where}.from", problems)
            last = _day(h.get("to", h.get("from")), f"{where}.to", problems)
            if first and last:
                if last < first:
                    problems.append(FieldProblem(where, "date_order", "to is before from"))
                holidays.update(
                    date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)
                )
        for i, m in enumerate((spec or {}).get("make_up_working_days") or []):
            d = _day(
                m.get("date") if isinstance(m, dict) else m,
                f"years.{year}.make_up_working_days[{i}]",
                problems,
            )
            if d:
                make_up.add(d)
    return holidays, make_up


def _periods(data: dict[str, Any], problems: list[FieldProblem]) -> list[tuple[time, time]]:
    periods: list[tuple[time, time]] = []
    for i, pair in enumerate(data.get("working_periods") or []):
        try:
            periods.append((time.fromisoformat(str(pair[0])), time.fromisoformat(str(pair[1]))))
        except (ValueError, IndexError, TypeError):
            problems.append(
                FieldProblem(f"working_periods[{i}]", "time_pair", 'a period is ["HH:MM", "HH:MM"]')
            )
    return periods


def build_calendar(data: dict[str, Any], timezone: str) -> WorkingCalendar:
    """A calendar from a document of the shape of ``calendar_cn_2025_2026.yaml``."""
    problems: list[FieldProblem] = []
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.one(
            "timezone", "known_timezone", f"unknown time zone {timezone!r}"
        ) from None
    holidays, make_up = _holidays(data, problems)
    periods = _periods(data, problems)
    weekend = []
    for name in data.get("weekend") or ["saturday", "sunday"]:
        if str(name).lower() in _WEEKDAYS:
            weekend.append(_WEEKDAYS.index(str(name).lower()))
        else:
            problems.append(FieldProblem("weekend", "weekday", f"not a weekday: {name!r}"))
    if problems:
        raise InvalidInput(problems)
    try:
        return WorkingCalendar(
            tz,
            periods=periods or _default_periods(),
            holidays=holidays,
            make_up_days=make_up,
            weekend=weekend,
        )
    except ValueError as exc:
        raise InvalidInput.one("working_periods", "calendar", str(exc)) from None


def _default_periods() -> list[tuple[time, time]]:
    return [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]


@dataclass(frozen=True)
class CaseRules:
    """What every case command needs besides the database: the calendar and the limits."""

    calendar: WorkingCalendar
    limits: TimeLimitBook
    settings: CasesSettings


_lock = threading.Lock()
_rules: dict[tuple[Path, Path, str], CaseRules] = {}


def case_rules(timezone: str = "Asia/Shanghai", settings: CasesSettings | None = None) -> CaseRules:
    """The rules for these files and time zone, read on first use and kept."""
    s = settings or cases_settings()
    key = (s.calendar_file, s.time_limits_file, timezone)
    found = _rules.get(key)
    if found is not None:
        return found
    with _lock:
        found = _rules.get(key)
        if found is None:
            calendar = build_calendar(read_yaml(s.calendar_file), timezone)
            book = build_time_limit_book(read_yaml(s.time_limits_file))
            found = CaseRules(calendar, book, s)
            _rules[key] = found
    return found
