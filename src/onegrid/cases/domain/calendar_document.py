"""The working calendar as a document (the shape of ``calendar_cn_2025_2026.yaml``, or the same
as JSON) turned into a ``WorkingCalendar``, with every broken rule named at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onegrid.cases.domain.calendar import DEFAULT_PERIODS, WorkingCalendar
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


def _periods(data: Mapping[str, Any], problems: list[FieldProblem]) -> list[tuple[time, time]]:
    periods: list[tuple[time, time]] = []
    for i, pair in enumerate(data.get("working_periods") or []):
        try:
            periods.append((time.fromisoformat(str(pair[0])), time.fromisoformat(str(pair[1]))))
        except (ValueError, IndexError, TypeError):
            problems.append(
                FieldProblem(f"working_periods[{i}]", "time_pair", 'a period is ["HH:MM", "HH:MM"]')
            )
    return periods


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
    periods = _periods(data, problems)
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
            holidays=holidays,
            make_up_days=make_up,
            weekend=weekend,
        )
    except ValueError as exc:
        raise InvalidInput.one("working_periods", "calendar", str(exc)) from None
