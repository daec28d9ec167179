"""Which rules a process uses: the saved revision, at once where it was saved and within the
refresh interval elsewhere, with no query in between; and ``onegrid rules``."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event
from typer.testing import CliRunner

from onegrid.cases import config
from onegrid.cases.config import (
    DATA,
    CasesSettings,
    case_rules,
    release_rule_store,
    use_rule_store,
)
from onegrid.cases.domain.calendar_document import build_calendar
from onegrid.cases.domain.rule_changes import RuleKind, as_json_document
from onegrid.cases.services.rules import save_rules
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.yamlfile import read_yaml
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.cases.city import principal

pytestmark = pytest.mark.postgres
ADMIN = principal(Role.CITY_ADMIN, user_id=1, name="admin")
TZ = "Asia/Shanghai"
TODAY = date(2026, 3, 2)  # the clock fixture's Monday


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    t = Ticks()
    monkeypatch.setattr(config, "_monotonic", t)
    return t


@pytest.fixture
def bound(db: Database) -> Iterator[Database]:
    use_rule_store(db)
    yield db
    release_rule_store(db)


def _holiday_today() -> dict[str, Any]:
    doc = as_json_document(read_yaml(DATA / "calendar_cn_2025_2026.yaml"))
    doc["years"]["2026"]["holidays"].append({"name": "City Day", "from": TODAY.isoformat()})
    return doc


def _save_holiday_today(db: Database, clock: FixedClock) -> None:
    """The first saved revision: the calendar file with today made a holiday."""
    save_rules(
        db,
        ADMIN,
        RuleKind.CALENDAR,
        _holiday_today(),
        note="city day",
        base_revision=0,
        clock=clock,
        timezone=TZ,
    )


def _count_reads(db: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "case_rule_revisions" in statement:
            seen.append(statement)

    return seen


def test_another_process_follows_within_the_refresh_interval(
    bound: Database, clock: FixedClock, ticks: Ticks
) -> None:
    rules = case_rules(TZ, CasesSettings(rules_refresh_seconds=5))
    assert rules.calendar.is_working_day(TODAY)
    reads = _count_reads(bound)
    elsewhere = Database(bound.engine)  # another process's handle on the same database
    _save_holiday_today(elsewhere, clock)
    saving_reads = len(reads)
    ticks.now += 4.9
    for _ in range(1000):  # a thousand case commands between two looks: no query
        assert rules.calendar.is_working_day(TODAY)
        assert rules.limits.version_on(TODAY).version == "2025.01"
    assert len(reads) == saving_reads
    ticks.now += 0.1
    # The read that finds a look due starts it in a thread and goes on with what it has (or
    # with the new rules, if the look was quicker).
    rules.calendar  # noqa: B018
    config._store.wait()
    assert len(reads) == saving_reads + 2  # the newest numbers, then the new document
    assert not rules.calendar.is_working_day(TODAY)
    assert rules.limits.version_on(TODAY).version == "2025.01"  # the file's: none saved
    assert len(reads) == saving_reads + 2


def test_a_revision_saved_before_the_process_started_is_in_force_at_once(
    db: Database, clock: FixedClock, ticks: Ticks
) -> None:
    _save_holiday_today(db, clock)
    rules = case_rules(TZ, CasesSettings(rules_refresh_seconds=3600))
    assert rules.calendar.is_working_day(TODAY)  # not bound: the file
    use_rule_store(db)  # a command starts
    try:
        assert not rules.calendar.is_working_day(TODAY)
    finally:
        release_rule_store(db)


def test_the_saving_process_follows_at_once(
    bound: Database, clock: FixedClock, ticks: Ticks
) -> None:
    rules = case_rules(TZ, CasesSettings(rules_refresh_seconds=3600))
    assert rules.calendar.is_working_day(TODAY)
    _save_holiday_today(bound, clock)
    assert not rules.calendar.is_working_day(TODAY)
    release_rule_store(bound)  # the server stops: back to the file
    assert rules.calendar.is_working_day(TODAY)


def _a_working_day(cal_doc: dict[str, Any], around: date) -> date:
    cal = build_calendar(cal_doc, TZ)
    day = around
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return day


def test_the_cli_saves_shows_and_lists_revisions(
    db: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    with db.unit_of_work() as s:
        people.create_user(
            s,
            "admin",
            "correct horse battery",
            clock,
            grants=[Grant(Role.CITY_ADMIN, Scope.city())],
        )
        people.create_user(
            s,
            "district",
            "correct horse battery",
            clock,
            grants=[Grant(Role.DISTRICT_ADMIN, Scope.area("110112"))],
        )
    runner = CliRunner()
    real_today = date.today()  # the CLI runs on the system clock
    doc = read_yaml(DATA / "calendar_cn_2025_2026.yaml")
    later = real_today + timedelta(days=40)
    good = copy.deepcopy(doc)
    good["years"].setdefault(later.year, {}).setdefault("holidays", []).append(
        {"name": "City Day", "name_zh": "城市日", "from": later}
    )
    good_file = tmp_path / "calendar.yaml"
    good_file.write_text(yaml.safe_dump(good, allow_unicode=True))
    try:
        result = runner.invoke(
            app, ["rules", "save", "calendar", str(good_file), "--note", "城市日", "--as", "admin"]
        )
        assert result.exit_code == 0, result.output
        assert "revision 1" in result.output
        result = runner.invoke(app, ["rules", "history", "calendar"])
        assert result.exit_code == 0 and "城市日" in result.output and "admin" in result.output
        result = runner.invoke(app, ["rules", "show", "calendar"])
        assert result.exit_code == 0 and "# calendar: revision 1" in result.output
        assert "City Day" in result.output

        past = _a_working_day(doc, real_today - timedelta(days=30))
        bad = copy.deepcopy(good)
        bad["years"].setdefault(past.year, {}).setdefault("holidays", []).append(
            {"name": "Too late", "from": past}
        )
        bad_file = tmp_path / "bad.yaml"
        bad_file.write_text(yaml.safe_dump(bad, allow_unicode=True))
        result = runner.invoke(
            app, ["rules", "save", "calendar", str(bad_file), "--note", "x", "--as", "admin"]
        )
        assert result.exit_code == 2 and "past_days_unchanged" in result.output, result.output
        result = runner.invoke(
            app, ["rules", "save", "calendar", str(good_file), "--note", "x", "--as", "district"]
        )
        assert result.exit_code == 2 and "config.admin" in result.output, result.output
        result = runner.invoke(
            app,
            [
                "rules",
                "save",
                "calendar",
                str(good_file),
                "--note",
                "x",
                "--as",
                "admin",
                "--base",
                "0",
            ],
        )
        assert result.exit_code == 2 and "revision 1 is in force" in result.output, result.output
    finally:
        release_rule_store()
