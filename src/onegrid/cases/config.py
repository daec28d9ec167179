"""The cases context's settings and rules in force: the working calendar and the time limits.

Each rule document is the newest revision an admin saved (``case_rule_revisions``), else the
file a city configures (``ONEGRID_CASES_CALENDAR_FILE``, ``ONEGRID_CASES_TIME_LIMITS_FILE``; the
defaults ship in ``cases/data``). The create path needs both for every case, so they are built
once and kept: the process bound to a database (the server, a CLI command) looks at the newest
revision numbers at most every ``ONEGRID_CASES_RULES_REFRESH_SECONDS``, and at once after it
saved one itself. Between two looks a rule read costs a clock reading, no query.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.calendar_document import build_calendar
from onegrid.cases.domain.rule_changes import RuleKind
from onegrid.cases.domain.timelimits import TimeLimitBook, build_time_limit_book
from onegrid.cases.rulestore import SavedRevision, newest, newest_numbers
from onegrid.core.errors import InvalidInput
from onegrid.core.logging import get_logger
from onegrid.core.yamlfile import read_yaml
from onegrid.db.session import Database

__all__ = [
    "CaseRules",
    "CasesSettings",
    "build_calendar",
    "case_rules",
    "cases_settings",
    "document_in_force",
    "file_document",
    "release_rule_store",
    "rules_saved",
    "use_rule_store",
]

DATA = Path(__file__).resolve().parent / "data"
log = get_logger(__name__)
_monotonic = time.monotonic  # a seam: tests move it to show the refresh bound
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError)


class CasesSettings(BaseSettings):
    """``ONEGRID_CASES_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="ONEGRID_CASES_", extra="ignore", frozen=True)

    calendar_file: Path = DATA / "calendar_cn_2025_2026.yaml"
    time_limits_file: Path = DATA / "time_limits.yaml"
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = Field(default=60.0, gt=0)
    # How stale another process's saved rules may be here; 0 looks before every rule read.
    rules_refresh_seconds: float = Field(default=5.0, ge=0)


@lru_cache(maxsize=1)
def cases_settings() -> CasesSettings:
    return CasesSettings()


def file_document(kind: RuleKind, settings: CasesSettings | None = None) -> tuple[Path, Any]:
    """The configured file of a kind and its document (read each time: admins' pages only)."""
    s = settings or cases_settings()
    path = s.time_limits_file if kind is RuleKind.TIME_LIMITS else s.calendar_file
    return path, read_yaml(path)


def document_in_force(
    conn: Connection, kind: RuleKind, settings: CasesSettings | None = None
) -> tuple[SavedRevision | None, Path, Any]:
    """The newest saved revision (None if there is none), the file, and the document in force."""
    saved = newest(conn, kind)
    if saved is not None:
        s = settings or cases_settings()
        path = s.time_limits_file if kind is RuleKind.TIME_LIMITS else s.calendar_file
        return saved, path, saved.document
    path, document = file_document(kind, settings)
    return None, path, document


class _RuleStore:
    """The newest saved documents of the database this process is bound to.

    A look runs in a thread of its own: the reader that finds one due goes on with the rules in
    force. A request may hold a pooled connection and SQLite's writer lock while it reads the
    rules; waiting there for a second connection could wait on requests that wait on it.
    """

    def __init__(self) -> None:
        self.db: Database | None = None
        self.epoch = 0  # bumped whenever what is in force may have changed
        self.binding = 0  # bumped when bound to another database
        self.saved: dict[RuleKind, SavedRevision] = {}
        self._due = 0.0  # _monotonic() of the next look
        self._lock = threading.Lock()  # held by the one look running

    def bind(self, db: Database | None) -> None:
        with self._lock:
            self.db = db
            self.binding += 1
            self.saved = {}
            self.epoch += 1
            self._due = 0.0
            if db is not None:
                # A command reads the rules at once: look now, while nothing else is held. A
                # database not migrated yet is looked at again on the next read.
                self._look(db, quiet=True)

    def poll(self, refresh: float) -> int:
        db = self.db
        if db is not None and _monotonic() >= self._due and self._lock.acquire(blocking=False):
            self._due = _monotonic() + refresh
            threading.Thread(target=self._look_and_release, args=(db, refresh), daemon=True).start()
        return self.epoch

    def _look_and_release(self, db: Database, refresh: float) -> None:
        try:
            self._look(db)
            self._due = _monotonic() + refresh
        finally:
            self._lock.release()

    def look_now(self, db: Database) -> None:
        with self._lock:
            if self.db is db:
                self._look(db)

    def wait(self) -> None:
        """Until the look running (if any) has ended."""
        with self._lock:
            pass

    def _look(self, db: Database, *, quiet: bool = False) -> None:
        try:
            with db.engine.connect() as conn:
                numbers = newest_numbers(conn)
                fresh = {
                    kind: found
                    for kind, n in numbers.items()
                    if n > (self.saved[kind].revision if kind in self.saved else 0)
                    and (found := newest(conn, kind)) is not None
                }
        except SQLAlchemyError as exc:  # not migrated yet, or the database is away
            if not quiet:
                log.warning("rule revisions unreadable; the rules in force stay", error=repr(exc))
            return
        if fresh and self.db is db:
            self.saved = {**self.saved, **fresh}
            self.epoch += 1


_store = _RuleStore()


def use_rule_store(db: Database) -> None:
    """Let this process's rules follow the revisions saved in ``db`` (the server's lifespan,
    the CLI's database)."""
    _store.bind(db)


def release_rule_store(db: Database | None = None) -> None:
    """Back to the files, if ``db`` (or, given none, any database) is still the one bound."""
    if db is None or _store.db is db:
        _store.bind(None)


def rules_saved(db: Database) -> None:
    """A revision was just committed to ``db``: this process follows it at once."""
    _store.look_now(db)


class CaseRules:
    """What every case command needs besides the database: the calendar and the limits in
    force. Long-lived holders (the scheduler, the sensing worker) keep one object; it follows
    saved revisions by itself."""

    def __init__(self, timezone: str, settings: CasesSettings) -> None:
        self.timezone = timezone
        self.settings = settings
        self._refresh = settings.rules_refresh_seconds  # read per rule read: kept at hand
        self._files = (
            build_calendar(read_yaml(settings.calendar_file), timezone),
            build_time_limit_book(read_yaml(settings.time_limits_file)),
        )
        self._state: tuple[int, WorkingCalendar, TimeLimitBook] = (-1, *self._files)
        self._built: dict[tuple[int, RuleKind, int], Any] = {}
        self._build_lock = threading.Lock()

    @property
    def calendar(self) -> WorkingCalendar:
        return self._current()[1]

    @property
    def limits(self) -> TimeLimitBook:
        return self._current()[2]

    def _current(self) -> tuple[int, WorkingCalendar, TimeLimitBook]:
        epoch = _store.poll(self._refresh)
        state = self._state
        if state[0] != epoch:
            state = self._resolve(epoch)
        return state

    def _resolve(self, epoch: int) -> tuple[int, WorkingCalendar, TimeLimitBook]:
        with self._build_lock:
            saved = _store.saved
            calendar = self._build(saved.get(RuleKind.CALENDAR), self._files[0])
            limits = self._build(saved.get(RuleKind.TIME_LIMITS), self._files[1])
            self._state = (epoch, calendar, limits)
            return self._state

    def _build(self, saved: SavedRevision | None, fallback: Any) -> Any:
        if saved is None or saved.document is None:
            return fallback
        key = (_store.binding, saved.kind, saved.revision)
        found = self._built.get(key)
        if found is None:
            try:
                found = (
                    build_calendar(saved.document, self.timezone)
                    if saved.kind is RuleKind.CALENDAR
                    else build_time_limit_book(saved.document)
                )
            except (InvalidInput, *_SHAPE_ERRORS) as exc:  # checked when saved; keep serving
                log.error(
                    "saved rules unusable; the file's are in force",
                    kind=saved.kind.value,
                    revision=saved.revision,
                    error=repr(exc),
                )
                return fallback
            if len(self._built) > 16:
                self._built.clear()
            self._built[key] = found
        return found


_lock = threading.Lock()
_rules: dict[tuple[Path, Path, str, float], CaseRules] = {}


def case_rules(timezone: str = "Asia/Shanghai", settings: CasesSettings | None = None) -> CaseRules:
    """The rules for these files and time zone: built on first use and kept."""
    s = settings or cases_settings()
    key = (s.calendar_file, s.time_limits_file, timezone, s.rules_refresh_seconds)
    found = _rules.get(key)
    if found is not None:
        return found
    with _lock:
        found = _rules.get(key)
        if found is None:
            found = CaseRules(timezone, s)
            _rules[key] = found
    return found
