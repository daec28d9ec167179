"""What a saved change to the city's rules may do: the rules of the past are kept.

A case keeps the time-limit version in force on the day it was filed, and its times were counted
on the calendar's working days; so a change may add what starts after today, and may not rewrite
what cases already ran under. Each check validates the whole proposed document as the server does
at start-up, then compares it with the one in force, and names every broken rule at once.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from onegrid.cases.domain.calendar import OutsideCalendarError, WorkingCalendar
from onegrid.cases.domain.calendar_document import (
    build_calendar,
    dated_entries,
    period_change_paths,
)
from onegrid.cases.domain.timelimits import (
    LimitVersion,
    TimeLimitBook,
    build_time_limit_book,
    parse_version,
)
from onegrid.core.errors import FieldProblem, InvalidInput

_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError)


class RuleKind(StrEnum):
    """The rule documents a city edits and the server versions."""

    TIME_LIMITS = "time_limits"
    CALENDAR = "calendar"


def as_json_document(data: Mapping[str, Any]) -> dict[str, Any]:
    """The document as JSON holds it: dates as ISO strings, every key a string (a YAML year)."""
    out: dict[str, Any] = json.loads(json.dumps(data, default=_iso))
    return out


def _iso(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def _shape(what: str, exc: Exception) -> InvalidInput:
    return InvalidInput.one("document", "shape", f"not a {what} document: {exc!r}")


def parse_time_limits(document: Mapping[str, Any]) -> TimeLimitBook:
    """``build_time_limit_book``, with a document of the wrong shape named as such."""
    try:
        return build_time_limit_book(document)
    except _SHAPE_ERRORS as exc:
        raise _shape("time-limit", exc) from None


def parse_calendar(document: Mapping[str, Any], timezone: str) -> WorkingCalendar:
    """``build_calendar``, with a document of the wrong shape named as such."""
    try:
        return build_calendar(document, timezone)
    except _SHAPE_ERRORS as exc:
        raise _shape("calendar", exc) from None


def _labelled(document: Mapping[str, Any]) -> dict[str, tuple[int, Any]]:
    raw = document.get("versions") or []
    if not isinstance(raw, list):
        return {}
    return {str(v.get("version", "")): (i, v) for i, v in enumerate(raw) if isinstance(v, Mapping)}


def _version_problems(
    in_use: list[LimitVersion], proposed: Mapping[str, Any], today: date
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    labelled = _labelled(proposed)
    for old in in_use:
        found = labelled.get(old.version)
        if found is None:
            problems.append(
                FieldProblem(
                    "versions",
                    "version_in_use_kept",
                    f"version {old.version} (in force from {old.valid_from}) is missing: "
                    "cases filed under it keep it",
                )
            )
        elif parse_version(found[1], "", []) != old:
            problems.append(
                FieldProblem(
                    f"versions[{found[0]}]",
                    "version_in_use_unchanged",
                    f"version {old.version} has been in force since {old.valid_from}: cases "
                    f"filed under it keep its rules; add a version starting after {today}",
                )
            )
    used = {v.version for v in in_use}
    for label, (i, raw) in labelled.items():
        new = parse_version(raw, "", [])
        if label not in used and new is not None and new.valid_from <= today:
            problems.append(
                FieldProblem(
                    f"versions[{i}].valid_from",
                    "starts_after_today",
                    f"a new or changed version ({label}) must start after today ({today}): "
                    "cases filed until today keep the version in force",
                )
            )
    return problems


def check_time_limit_change(
    current: Mapping[str, Any], proposed: Mapping[str, Any], today: date
) -> TimeLimitBook:
    """The proposed book, if it is valid and keeps every version in force on or before
    ``today`` (the city's day) as it was; otherwise ``InvalidInput`` naming every problem."""
    problems: list[FieldProblem] = []
    book: TimeLimitBook | None = None
    try:
        book = parse_time_limits(proposed)
    except InvalidInput as exc:
        problems.extend(exc.problems)
    in_use = [v for v in parse_time_limits(current).versions if v.valid_from <= today]
    with contextlib.suppress(*_SHAPE_ERRORS):  # a shape problem is already named above
        problems.extend(_version_problems(in_use, proposed, today))
    if problems or book is None:
        raise InvalidInput(problems)
    return book


def _changed_days(
    old: WorkingCalendar,
    new: WorkingCalendar,
    entries: dict[str, list[date]],
    today: date,
) -> dict[str, list[date]]:
    """Days before ``today`` whose working status differs, by the proposed entry that holds
    them (or their year, for an entry taken out)."""
    where: dict[date, str] = {d: path for path, days in entries.items() for d in days}
    changed: dict[str, list[date]] = defaultdict(list)
    for day in sorted(set(where) | old.holidays | old.make_up_days):
        if day >= today:
            continue
        try:
            differs = old.is_working_day(day) != new.is_working_day(day)
        except OutsideCalendarError:
            continue
        if differs:
            changed[where.get(day, f"years.{day.year}")].append(day)
    return changed


def _period_problems(
    old: WorkingCalendar, new: WorkingCalendar, paths: Mapping[date, str], today: date
) -> list[FieldProblem]:
    """Days up to ``today`` keep their daily working periods; a change starts after today."""
    # Both calendars are constant between their change dates, so comparing the days on which
    # either changes compares every day.
    starts = {old.first_day} | {c.first for c in (*old.period_changes, *new.period_changes)}
    problems = []
    for day in sorted(d for d in starts if d <= today):
        if old.periods_on(day) == new.periods_on(day):
            continue
        path = (
            "working_periods" if day == old.first_day else paths.get(day, "working_period_changes")
        )
        problems.append(
            FieldProblem(
                path,
                "working_periods_unchanged",
                f"{day}: the working periods of days up to today ({today}) count cases' times, "
                "the closed ones too; add a change that starts after today",
            )
        )
    return problems


def check_calendar_change(
    current: Mapping[str, Any], proposed: Mapping[str, Any], today: date, timezone: str
) -> WorkingCalendar:
    """The proposed calendar, if it is valid and every day before ``today`` keeps its working
    or non-working status and the daily periods stay; otherwise ``InvalidInput`` naming every
    problem. Closed cases' times were counted on those days and hours."""
    new = parse_calendar(proposed, timezone)
    old = parse_calendar(current, timezone)
    problems: list[FieldProblem] = []
    problems.extend(_period_problems(old, new, period_change_paths(proposed), today))
    if new.weekend != old.weekend:
        problems.append(
            FieldProblem(
                "weekend",
                "past_days_unchanged",
                "a changed weekend changes the status of days before today; closed cases' "
                "times were counted on them",
            )
        )
    else:
        for path, days in _changed_days(old, new, dated_entries(proposed), today).items():
            shown = ", ".join(d.isoformat() for d in days[:5]) + (" …" if len(days) > 5 else "")
            problems.append(
                FieldProblem(
                    path,
                    "past_days_unchanged",
                    f"{shown}: days before today ({today}) keep their working or non-working "
                    "status, since closed cases' times were counted on them",
                )
            )
    if problems:
        raise InvalidInput(problems)
    return new
