"""The working calendar as a document (the shape of ``calendar_cn_2025_2026.yaml``, or the same
as JSON) turned into a ``WorkingCalendar``, with every broken rule named at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onegrid.cases.domain.calendar import (
    DEFAULT_PERIODS,
    FIRST_DAY,
    LAST_DAY,
    PeriodChange,
    WorkingCalendar,
    period_spans,
)
from onegrid.core.errors import FieldProblem, InvalidInput

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(value: Any, where: str, problems: list[FieldProblem]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(FieldProblem(where, "date", f"not a date: {value!r}"))
        return None


def dated_entries(data: Mapping[str, Any]) -> dict[str, list[date]]:
    """Every holiday and make-up entry of a well-formed document: its path and its days."""
    out: dict[str, list[date]] = {}
    for year, spec in (data.get("years") or {}).items():
        for i, h in enumerate((spec or {}).get("holidays") or []):
            first = _day(h.get("from"), "", [])
            last = _day(h.get("to", h.get("from")), "", [])
            if first and last:
                out[f"years.{year}.holidays[{i}]"] = [
                    date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)
                ]
        for i, m in enumerate((spec or {}).get("make_up_working_days") or []):
            d = _day(m.get("date") if isinstance(m, Mapping) else m, "", [])
            if d:
                out[f"years.{year}.make_up_working_days[{i}]"] = [d]
    return out


def period_change_paths(data: Mapping[str, Any]) -> dict[date, str]:
    """The path of each well-formed entry of ``working_period_changes``, by its first day."""
    out: dict[date, str] = {}
    raw = data.get("working_period_changes")
    for i, entry in enumerate(raw if isinstance(raw, list) else []):
        first = _day(entry.get("from"), "", []) if isinstance(entry, Mapping) else None
        if first:
            out.setdefault(first, f"working_period_changes[{i}]")
    return out


def _holidays(data: Mapping[str, Any], problems: list[FieldProblem]) -> tuple[set[date], set[date]]:
    holidays: set[date] = set()
    make_up: set[date] = set()
    for year, spec in (data.get("years") or {}).items():
        for i, h in enumerate((spec or {}).get("holidays") or []):
            where = f"years.{year}.holidays[{i}]"
            first = _day(h.get("from"), f"{where}.from", problems)
            last = _day(h.get("to", h.get("from")), f"{where}.to", problems)
            if first and last:
                if last < first:
                    problems.append(FieldProblem(f"{where}.to", "date_order", "to is before from"))
                holidays.update(
                    date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)
                )
        for i, m in enumerate((spec or {}).get("make_up_working_days") or []):
            d = _day(
                m.get("date") if isinstance(m, Mapping) else m,
                f"years.{year}.make_up_working_days[{i}]",
                problems,
            )
            if d:
                make_up.add(d)
    return holidays, make_up


def _periods(pairs: Any, where: str, problems: list[FieldProblem]) -> list[tuple[time, time]]:
    periods: list[tuple[time, time]] = []
    if not isinstance(pairs, list):
        problems.append(FieldProblem(where, "time_pairs", 'a list of ["HH:MM", "HH:MM"] pairs'))
        return periods
    for i, pair in enumerate(pairs):
        try:
            if isinstance(pair, str):
                raise TypeError
            periods.append((time.fromisoformat(str(pair[0])), time.fromisoformat(str(pair[1]))))
        except (ValueError, IndexError, TypeError, KeyError):
            problems.append(
                FieldProblem(f"{where}[{i}]", "time_pair", 'a period is ["HH:MM", "HH:MM"]')
            )
    return periods


def _checked_spans(
    periods: list[tuple[time, time]], where: str, problems: list[FieldProblem]
) -> None:
    try:
        period_spans(periods)
    except ValueError as exc:
        problems.append(FieldProblem(where, "working_periods", str(exc)))


def _period_changes(data: Mapping[str, Any], problems: list[FieldProblem]) -> list[PeriodChange]:
    """``working_period_changes``: new daily periods from a date on, e.g. summer hours."""
    raw = data.get("working_period_changes") or []
    if not isinstance(raw, list):
        problems.append(
            FieldProblem("working_period_changes", "list", "a list of {from, periods, name}")
        )
        return []
    changes: list[PeriodChange] = []
    seen: dict[date, int] = {}
    for i, entry in enumerate(raw):
        where = f"working_period_changes[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(FieldProblem(where, "mapping", "a change is {from, periods, name}"))
            continue
        first = _day(entry.get("from"), f"{where}.from", problems)
        periods = _periods(entry.get("periods"), f"{where}.periods", problems)
        if entry.get("periods") == []:
            problems.append(FieldProblem(f"{where}.periods", "required", "at least one period"))
        if not periods:
            continue
        before = len(problems)
        _checked_spans(periods, f"{where}.periods", problems)
        if first is None or len(problems) > before:
            continue
        if not FIRST_DAY < first <= LAST_DAY:
            problems.append(
                FieldProblem(
                    f"{where}.from", "date_range", f"a date after {FIRST_DAY}, up to {LAST_DAY}"
                )
            )
            continue
        if first in seen:
            problems.append(
                FieldProblem(
                    f"{where}.from",
                    "unique_date",
                    f"working_period_changes[{seen[first]}] already starts on {first}",
                )
            )
            continue
        seen[first] = i
        changes.append(PeriodChange(first, tuple(periods), str(entry.get("name") or "")))
    return changes


def build_calendar(data: Mapping[str, Any], timezone: str) -> WorkingCalendar:
    """A calendar from a document of the shape of ``calendar_cn_2025_2026.yaml``."""
    problems: list[FieldProblem] = []
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.one(
            "timezone", "known_timezone", f"unknown time zone {timezone!r}"
        ) from None
    holidays, make_up = _holidays(data, problems)
    periods = _periods(data.get("working_periods") or [], "working_periods", problems)
    changes = _period_changes(data, problems)
    weekend = []
    for name in data.get("weekend") or ["saturday", "sunday"]:
        if str(name).lower() in WEEKDAYS:
            weekend.append(WEEKDAYS.index(str(name).lower()))
        else:
            problems.append(FieldProblem("weekend", "weekday", f"not a weekday: {name!r}"))
    problems.extend(
        FieldProblem(
            f"years.{day.year}",
            "holiday_or_make_up",
            f"{day} is both a holiday and a make-up working day",
        )
        for day in sorted(holidays & make_up)
    )
    if problems:
        raise InvalidInput(problems)
    try:
        return WorkingCalendar(
            tz,
            periods=periods or DEFAULT_PERIODS,
            period_changes=changes,
            holidays=holidays,
            make_up_days=make_up,
            weekend=weekend,
        )
    except ValueError as exc:
        raise InvalidInput.one("working_periods", "calendar", str(exc)) from None
