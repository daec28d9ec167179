"""The city's rules as the admin pages see them: the time limits and the working calendar.

Each is a document in force (the newest saved revision, else the configured file). These
endpoints show it with where it comes from, check a proposed one with the same validation a
save applies (the file's rules plus: what cases already ran under stays as it was), save it as a
new revision with optimistic concurrency, and list the revisions. Users, departments,
categories and API keys have their own endpoints in their contexts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path
from pydantic import BaseModel, Field

from onegrid.api.auth import requires
from onegrid.api.deps import AppClock, AppSettings, get_database
from onegrid.cases.config import (
    build_calendar,
    document_in_force,
)
from onegrid.cases.domain.rule_changes import RuleKind, parse_time_limits
from onegrid.cases.rulestore import SavedRevision, history, revision
from onegrid.cases.services.rules import check_change, save_rules
from onegrid.core.clock import Clock, city_today
from onegrid.core.cursors import ID_MAX
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people.domain import Principal

router = APIRouter(prefix="/admin", tags=["admin"])
ConfigAdmin = Annotated[Principal, requires("config.admin")]
Db = Annotated[Database, Depends(get_database)]


class RevisionOut(BaseModel):
    """One saved revision: who saved it, when, why (and, read alone, its document)."""

    kind: RuleKind
    revision: int
    saved_by: str = Field(description="The saver's actor reference (user:12)")
    saved_by_name: str
    saved_at: datetime
    note: str
    document: dict[str, Any] | None = None

    @classmethod
    def of(cls, saved: SavedRevision) -> RevisionOut:
        return cls(
            kind=saved.kind,
            revision=saved.revision,
            saved_by=saved.saved_by,
            saved_by_name=saved.saved_by_name,
            saved_at=saved.saved_at,
            note=saved.note,
            document=saved.document,
        )


class InForce(BaseModel):
    """Where the document in force comes from."""

    file: str = Field(description="The configured file (used while no revision is saved)")
    revision: int = Field(description="The revision in force; 0 means the file")
    source: Literal["file", "revision"]
    saved_by_name: str | None = None
    saved_at: datetime | None = None
    note: str | None = None


class SaveIn(BaseModel):
    document: dict[str, Any] = Field(description="The whole document, of the YAML file's shape")
    note: str = Field(max_length=2000, description="What changed and why (kept in the history)")
    base_revision: int = Field(
        ge=0, description="The revision the change was made to (0: the file); stale → 409"
    )


def _in_force(db: Database, kind: RuleKind) -> tuple[InForce, Any]:
    with db.reader() as session:
        saved, path, document = document_in_force(session.connection(), kind)
    return (
        InForce(
            file=path.name,
            revision=saved.revision if saved else 0,
            source="revision" if saved else "file",
            saved_by_name=saved.saved_by_name if saved else None,
            saved_at=saved.saved_at if saved else None,
            note=saved.note if saved else None,
        ),
        document,
    )


def _checked(
    db: Database, kind: RuleKind, proposed: dict[str, Any], clock: Clock, timezone: str
) -> None:
    _, current = _in_force(db, kind)
    check_change(kind, current, proposed, city_today(clock, timezone), timezone)


def _save(
    db: Database,
    principal: Principal,
    kind: RuleKind,
    body: SaveIn,
    clock: Clock,
    settings: Settings,
) -> RevisionOut:
    saved = save_rules(
        db,
        principal,
        kind,
        body.document,
        note=body.note,
        base_revision=body.base_revision,
        clock=clock,
        timezone=settings.timezone,
    )
    return RevisionOut.of(_without_document(saved))


def _without_document(saved: SavedRevision) -> SavedRevision:
    """A save's answer leaves the document out: the caller sent it."""
    return SavedRevision(
        saved.kind,
        saved.revision,
        saved.saved_by,
        saved.saved_by_name,
        saved.saved_at,
        saved.note,
    )


def _history(db: Database, kind: RuleKind) -> list[RevisionOut]:
    with db.reader() as session:
        return [RevisionOut.of(r) for r in history(session.connection(), kind)]


def _revision(db: Database, kind: RuleKind, number: int) -> RevisionOut:
    found = None
    # Checked here rather than by the path's type (``api.ids``), so the answer names the kind.
    if 1 <= number <= ID_MAX:
        with db.reader() as session:
            found = revision(session.connection(), kind, number)
    if found is None:
        raise NotFound(f"no {kind.value.replace('_', ' ')} revision {number}")
    return RevisionOut.of(found)


_SAVE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Only a city-wide grant may change the city's rules"},
    409: {"description": "base_revision is stale: `current` names the revision in force"},
    422: {"description": "Every broken rule, named in errors[]"},
}
RevisionNumber = Annotated[int, Path(description="A revision number")]


def _revision_routes(kind: RuleKind, noun: str, save_summary: str) -> None:
    """Save, history and one revision: the same three endpoints for every kind of rule document.

    The kind's value is the path's and the handlers' stem (``time_limits`` → ``/time-limits``,
    ``save_time_limits``), so the OpenAPI operation ids stay what they were.
    """
    name = kind.value
    path = "/" + name.replace("_", "-")

    def save(
        principal: ConfigAdmin, db: Db, clock: AppClock, settings: AppSettings, body: SaveIn
    ) -> RevisionOut:
        return _save(db, principal, kind, body, clock, settings)

    def list_history(principal: ConfigAdmin, db: Db) -> list[RevisionOut]:
        return _history(db, kind)

    def one_revision(principal: ConfigAdmin, db: Db, number: RevisionNumber) -> RevisionOut:
        return _revision(db, kind, number)

    router.add_api_route(
        path,
        save,
        methods=["PUT"],
        name=f"save_{name}",
        summary=save_summary,
        response_model=RevisionOut,
        responses=_SAVE_ERRORS,
    )
    router.add_api_route(
        f"{path}/history",
        list_history,
        methods=["GET"],
        name=f"{name}_history",
        summary=f"Every saved revision of the {noun}, newest first (who, when, note)",
        response_model=list[RevisionOut],
    )
    router.add_api_route(
        f"{path}/revisions/{{number}}",
        one_revision,
        methods=["GET"],
        name=f"{name}_revision",
        summary=f"One saved revision of the {noun}, with its document",
        response_model=RevisionOut,
    )


# --- time limits ---------------------------------------------------------------------------------


class VersionSummary(BaseModel):
    version: str
    valid_from: date
    rules: int


class TimeLimitsCheckOut(BaseModel):
    name: str
    max_extensions: int
    versions: list[VersionSummary]
    in_force: str


class TimeLimitsOut(InForce):
    in_force: str = Field(description="The version new cases get today")
    document: dict[str, Any]


def _limits_summary(data: dict[str, Any], today: date) -> TimeLimitsCheckOut:
    book = parse_time_limits(data)
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
    summary="The time-limit document in force, and where it comes from (file or revision)",
    response_model=TimeLimitsOut,
)
def get_time_limits(
    principal: ConfigAdmin, db: Db, clock: AppClock, settings: AppSettings
) -> TimeLimitsOut:
    where, document = _in_force(db, RuleKind.TIME_LIMITS)
    summary = _limits_summary(document, city_today(clock, settings.timezone))
    return TimeLimitsOut(**where.model_dump(), in_force=summary.in_force, document=document)


@router.post(
    "/time-limits/check",
    summary="Check a proposed time-limit document as a save would; 422 names every broken rule",
    response_model=TimeLimitsCheckOut,
)
def check_time_limits(
    principal: ConfigAdmin,
    db: Db,
    clock: AppClock,
    settings: AppSettings,
    document: Annotated[dict[str, Any], Body()],
) -> TimeLimitsCheckOut:
    _checked(db, RuleKind.TIME_LIMITS, document, clock, settings.timezone)
    return _limits_summary(document, city_today(clock, settings.timezone))


_revision_routes(
    RuleKind.TIME_LIMITS,
    "time limits",
    "Save a new revision of the time limits (versions in force or past stay as they are; new "
    "versions start after today)",
)


# --- working calendar ----------------------------------------------------------------------------


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


class PeriodChangeOut(BaseModel):
    first: date = Field(description="The first day the periods are in force")
    name: str
    periods: list[list[str]]
    day_hours: float


class CalendarOut(BaseModel):
    file: str
    name: str
    timezone: str
    weekend: list[str]
    working_periods: list[list[str]] = Field(
        description="The daily periods from the calendar's first day until the first change"
    )
    day_hours: float
    working_period_changes: list[PeriodChangeOut] = Field(
        description="New daily periods from a date on, oldest first"
    )
    years: list[CalendarYearOut]


class CalendarInForceOut(CalendarOut, InForce):
    document: dict[str, Any]


def _calendar_out(data: dict[str, Any], timezone: str, file: str) -> CalendarOut:
    try:
        return _calendar_summary(data, timezone, file)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise InvalidInput.one("document", "shape", f"not a calendar document: {exc!r}") from None


def _hh_mm(periods: Iterable[tuple[time, time]]) -> list[list[str]]:
    return [[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in periods]


def _calendar_summary(data: dict[str, Any], timezone: str, file: str) -> CalendarOut:
    calendar = build_calendar(data, timezone)
    years = []
    for year, spec in sorted((data.get("years") or {}).items(), key=lambda kv: int(kv[0])):
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
        working_periods=_hh_mm(calendar.periods_on(calendar.first_day)),
        day_hours=calendar.day_length_on(calendar.first_day).total_seconds() / 3600,
        working_period_changes=[
            PeriodChangeOut(
                first=c.first,
                name=c.name,
                periods=_hh_mm(calendar.periods_on(c.first)),
                day_hours=calendar.day_length_on(c.first).total_seconds() / 3600,
            )
            for c in calendar.period_changes
        ],
        years=years,
    )


@router.get(
    "/calendar",
    summary="The working calendar in force (periods, weekend, holidays, make-up days), its "
    "document, and where it comes from (file or revision)",
    response_model=CalendarInForceOut,
)
def get_calendar(principal: ConfigAdmin, db: Db, settings: AppSettings) -> CalendarInForceOut:
    where, document = _in_force(db, RuleKind.CALENDAR)
    summary = _calendar_out(document, settings.timezone, where.file)
    return CalendarInForceOut(**{**where.model_dump(), **summary.model_dump()}, document=document)


@router.post(
    "/calendar/check",
    summary="Check a proposed working calendar as a save would; 422 names every broken rule",
    response_model=CalendarOut,
)
def check_calendar(
    principal: ConfigAdmin,
    db: Db,
    clock: AppClock,
    settings: AppSettings,
    document: Annotated[dict[str, Any], Body()],
) -> CalendarOut:
    _checked(db, RuleKind.CALENDAR, document, clock, settings.timezone)
    return _calendar_out(document, settings.timezone, "(proposed)")


_revision_routes(
    RuleKind.CALENDAR,
    "working calendar",
    "Save a new revision of the working calendar (days before today keep their working or "
    "non-working status)",
)
