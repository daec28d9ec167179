"""The city's rule files as the admin pages see them: the time limits and the working calendar.

Both are data files the cases context reads once per process (``ONEGRID_CASES_TIME_LIMITS_FILE``,
``ONEGRID_CASES_CALENDAR_FILE``). These endpoints show the document in force and check a proposed
one with the same validation the server applies at start-up, so an admin sees every broken rule,
named, before the file is replaced. Users, departments, categories and API keys have their own
endpoints in their contexts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from onegrid.api.auth import requires
from onegrid.api.deps import AppClock, AppSettings
from onegrid.cases.config import build_calendar, cases_settings
from onegrid.cases.domain.timelimits import build_time_limit_book
from onegrid.core.errors import InvalidInput
from onegrid.people.domain import Principal

router = APIRouter(prefix="/admin", tags=["admin"])
ConfigAdmin = Annotated[Principal, requires("config.admin")]


def _document(path: Path, field: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput.one(field, "readable", f"cannot read {path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput.one(field, "mapping", f"{path.name} must hold a mapping at the top")
    return data


class TimeLimitsOut(BaseModel):
    file: str = Field(description="The file in force (ONEGRID_CASES_TIME_LIMITS_FILE)")
    in_force: str = Field(description="The version new cases get today")
    document: dict[str, Any]


class VersionSummary(BaseModel):
    version: str
    valid_from: date
    rules: int


class TimeLimitsCheckOut(BaseModel):
    name: str
    max_extensions: int
    versions: list[VersionSummary]
    in_force: str


def _shape_error(what: str, exc: Exception) -> InvalidInput:
    # The validators name every broken rule in a document of the right shape; a proposed
    # document of another shape (a list where a mapping belongs) is still the caller's mistake.
    return InvalidInput.one("document", "shape", f"not a {what} document: {exc!r}")


def _limits_summary(data: dict[str, Any], today: date) -> TimeLimitsCheckOut:
    try:
        book = build_time_limit_book(data)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise _shape_error("time-limit", exc) from None
    return TimeLimitsCheckOut(
        name=book.name,
        max_extensions=book.max_extensions,
        versions=[
            VersionSummary(version=v.version, valid_from=v.valid_from, rules=len(v.rules))
            for v in book.versions
        ],
        in_force=book.version_on(today).version,
    )


@router.get(
    "/time-limits",
    summary="The time-limit document in force: versions, defaults, rules and region classes",
    response_model=TimeLimitsOut,
)
def get_time_limits(principal: ConfigAdmin, clock: AppClock) -> TimeLimitsOut:
    path = cases_settings().time_limits_file
    data = _document(path, "time_limits_file")
    return TimeLimitsOut(
        file=path.name,
        in_force=_limits_summary(data, clock.now().date()).in_force,
        document=data,
    )


@router.post(
    "/time-limits/check",
    summary="Check a proposed time-limit document (JSON of the YAML file's shape); 422 names "
    "every broken rule",
    response_model=TimeLimitsCheckOut,
)
def check_time_limits(
    principal: ConfigAdmin, clock: AppClock, document: Annotated[dict[str, Any], Body()]
) -> TimeLimitsCheckOut:
    return _limits_summary(document, clock.now().date())


class HolidayOut(BaseModel):
    name: str
    name_zh: str | None = None
    first: date
    last: date


class CalendarYearOut(BaseModel):
    year: int
    holidays: list[HolidayOut]
    make_up_working_days: list[date]
    working_days: int = Field(description="Working days in the year by this calendar")


class CalendarOut(BaseModel):
    file: str
    name: str
    timezone: str
    weekend: list[str]
    working_periods: list[list[str]]
    day_hours: float
    years: list[CalendarYearOut]


def _calendar_out(data: dict[str, Any], timezone: str, file: str) -> CalendarOut:
    try:
        return _calendar_summary(data, timezone, file)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise _shape_error("calendar", exc) from None


def _calendar_summary(data: dict[str, Any], timezone: str, file: str) -> CalendarOut:
    calendar = build_calendar(data, timezone)
    years = []
    for year, spec in sorted((data.get("years") or {}).items()):
        spec = spec or {}
        first, last = date(int(year), 1, 1), date(int(year), 12, 31)
        working = sum(
            calendar.is_working_day(date.fromordinal(n))
            for n in range(first.toordinal(), last.toordinal() + 1)
        )
        years.append(
            CalendarYearOut(
                year=int(year),
                holidays=[
                    HolidayOut(
                        name=str(h.get("name", "")),
                        name_zh=h.get("name_zh"),
                        first=h["from"],
                        last=h.get("to", h["from"]),
                    )
                    for h in spec.get("holidays") or []
                ],
                make_up_working_days=[
                    m["date"] if isinstance(m, dict) else m
                    for m in spec.get("make_up_working_days") or []
                ],
                working_days=working,
            )
        )
    return CalendarOut(
        file=file,
        name=str(data.get("name", "")),
        timezone=timezone,
        weekend=[str(d) for d in data.get("weekend") or ["saturday", "sunday"]],
        working_periods=[[str(a), str(b)] for a, b in data.get("working_periods") or []],
        day_hours=calendar.day_length.total_seconds() / 3600,
        years=years,
    )


@router.get(
    "/calendar",
    summary="The working calendar in force: working periods, weekend, holidays, make-up days",
    response_model=CalendarOut,
)
def get_calendar(principal: ConfigAdmin, settings: AppSettings) -> CalendarOut:
    path = cases_settings().calendar_file
    return _calendar_out(_document(path, "calendar_file"), settings.timezone, path.name)


@router.post(
    "/calendar/check",
    summary="Check a proposed working calendar (JSON of the YAML file's shape); 422 names every "
    "broken rule",
    response_model=CalendarOut,
)
def check_calendar(
    principal: ConfigAdmin, settings: AppSettings, document: Annotated[dict[str, Any], Body()]
) -> CalendarOut:
    return _calendar_out(document, settings.timezone, "(proposed)")
