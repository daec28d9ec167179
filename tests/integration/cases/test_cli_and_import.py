"""``onegrid jobs run-once`` and ``onegrid import cases``, and replaying a history in bulk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onegrid.cases.config import CaseRules
from onegrid.cases.domain.aggregate import Command
from onegrid.cases.domain.states import Channel
from onegrid.cases.domain.workflow import Action
from onegrid.cases.history import Actor, history_of
from onegrid.cases.importing import HistoricalCase, HistoricalStep, load_historical
from onegrid.cases.queries import get_case_by_number
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.cases.city import CORE_SUB, IN_CORE, OUTSIDE, split_core_community

pytestmark = pytest.mark.postgres
LEADER = Actor("user:12", "leader", "shift_leader")
HANDLER = Actor("user:14", "handler", "department_handler")


def test_replayed_histories_load_in_bulk(
    city: Database, clock: FixedClock, rules: CaseRules
) -> None:
    t0 = datetime(2026, 2, 2, 1, tzinfo=UTC)  # Monday 09:00 Beijing
    steps = (
        HistoricalStep(Command(Action.FILE), t0 + timedelta(minutes=20), LEADER),
        HistoricalStep(
            Command(Action.DISPATCH, department_code="sanitation"),
            t0 + timedelta(minutes=30),
            LEADER,
        ),
        HistoricalStep(Command(Action.ACCEPT), t0 + timedelta(hours=1), HANDLER),
        # Reported back the next day: the 4-working-hour handle step ran late.
        HistoricalStep(
            Command(Action.REPORT_BACK, reason="cleared"), t0 + timedelta(days=1), HANDLER
        ),
    )
    cases = [
        HistoricalCase(
            "E0102",
            t0,
            *IN_CORE,
            "rubbish",
            channel=Channel.INSPECTOR,
            external_ref=f"demo:{i}",
            steps=steps[: i % 5],
        )
        for i in range(10)
    ] + [
        HistoricalCase("E0102", t0, *OUTSIDE, "far away", external_ref="demo:out"),
        HistoricalCase("E9999", t0, *IN_CORE, "unknown", external_ref="demo:bad"),
    ]
    report = load_historical(city, cases, rules=rules, batch_size=4)
    assert report.accepted == 10
    assert sorted(p.rule for p in report.rejected) == ["inside_city", "known_category"]
    # A record without steps is another system's snapshot of an open case: it is at the
    # department already, so it loads as dispatched, like the two dispatched by replay.
    assert report.by_status == {
        "to_dispatch": 2,
        "dispatched": 4,
        "handling": 2,
        "to_check": 2,
    }
    with city.reader() as s:
        done = get_case_by_number(s, "E0102202602020005")
        entries = history_of(s, done.id)
    assert done.status == "to_check" and done.overdue_steps == 1 and done.step == "check"
    assert [e.action for e in entries] == ["create", "file", "dispatch", "accept", "report_back"]
    assert entries[-1].details == {"step_ended_late": True} and entries[-1].role == HANDLER.role
    again = load_historical(city, cases, rules=rules)
    assert (again.accepted, again.skipped_existing) == (0, 10)


def test_the_cli_imports_a_csv_and_runs_the_job(
    city: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = city.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEGRID_DATABASE_URL", url)
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    csv = tmp_path / "cases.csv"
    csv.write_text(
        "unique_key,created_date,closed_date,agency,complaint_type,descriptor,incident_zip,"
        "longitude,latitude\n"
        "1,2026-04-11T23:28:40.000,2026-04-12T01:00:00.000,NYPD,Noise - Residential,Loud,"
        "10001,-73.99,40.75\n"
        "2,2026-04-11T23:30:00.000,,DSNY,Missed Collection,Trash,10001,-73.99,40.75\n"
        "3,2026-04-11T23:31:00.000,,DSNY,Missed Collection,Trash,10001,,\n"
    )
    runner = CliRunner()
    result = runner.invoke(app, ["import", "cases", str(csv)])
    assert result.exit_code == 0, result.output
    assert "2 case(s) loaded" in result.output and "1 refused" in result.output
    assert "coordinates_required" in result.output
    result = runner.invoke(app, ["jobs", "run-once"])
    assert result.exit_code == 0, result.output
    assert "overdue job:" in result.output


def test_old_cases_lie_in_the_grid_of_their_own_day(
    city: Database, clock: FixedClock, rules: CaseRules, tmp_path: Path
) -> None:
    with city.unit_of_work() as s:
        split_core_community(s, clock, tmp_path, date(2026, 1, 1))
    cases = [
        HistoricalCase("E0102", datetime(2025, 6, 2, 1, tzinfo=UTC), *IN_CORE, "before"),
        HistoricalCase("E0102", datetime(2026, 2, 2, 1, tzinfo=UTC), *IN_CORE, "after"),
        # 07:00 on 1 January in Beijing is still 31 December in UTC: the city's day counts.
        HistoricalCase("E0102", datetime(2025, 12, 31, 23, tzinfo=UTC), *IN_CORE, "first day"),
    ]
    report = load_historical(city, cases, rules=rules)
    assert report.accepted == 3
    with city.reader() as s:
        before = get_case_by_number(s, "E0102202506020001")
        after = get_case_by_number(s, "E0102202602020001")
        first = get_case_by_number(s, "E0102202601010001")
    assert before.community_code == f"{CORE_SUB}001"
    assert after.community_code == f"{CORE_SUB}002"
    assert first.community_code == f"{CORE_SUB}002"
    assert after.unit_grid_code is not None and after.unit_grid_code.startswith(f"{CORE_SUB}002")
