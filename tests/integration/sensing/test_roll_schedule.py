"""Older readings roll into the lake: by hand (``onegrid sensors roll``), and inside the server
on the embedded default (SQLite) every ``ONEGRID_SENSING_ROLL_INTERVAL_S``."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from structlog.testing import capture_logs
from typer.testing import CliRunner

from onegrid.api.app import create_app
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.core.logging import configure_logging
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.sensing import scheduler
from onegrid.sensing.ingest.pipeline import Message, Pipeline
from onegrid.sensing.lake import horizon, read_lake
from onegrid.sensing.models import ReadingRow
from onegrid.sensing.settings import SensingSettings, sensing_settings
from tests.integration.sensing.city import City


def store(db: Database, clock: FixedClock, days_ago: list[int]) -> None:
    """One PM2.5 reading of AQ-W1 at noon UTC ``d`` days before the clock's day, for each d."""
    today = clock.now().astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    entries = [
        {
            "device": "AQ-W1",
            "ts": (today - timedelta(days=d)).isoformat(),
            "values": {"pm2_5": float(d)},
        }
        for d in days_ago
    ]
    pipeline = Pipeline(db, clock, SensingSettings(rules_file=Path("unused")), rules=[])
    message = Message(
        "test", "onegrid/v1/gateways/gw/readings", orjson.dumps({"readings": entries}), 0.0
    )
    assert pipeline.process([message]).accepted == len(days_ago)


def in_db(db: Database) -> list[float]:
    with db.reader() as s:
        return sorted(s.scalars(select(ReadingRow.value)))


def in_lake(lake: Path, clock: FixedClock) -> list[float]:
    table = read_lake(
        lake,
        quantity="pm2_5",
        start=clock.now() - timedelta(days=400),
        end=clock.now(),
    )
    return sorted(table.column("value").to_pylist())


@pytest.fixture
def cli(
    db: Database, city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONEGRID_SENSING_KEEP_DAYS", "30")
    monkeypatch.setenv("COLUMNS", "200")
    sensing_settings.cache_clear()
    yield CliRunner()
    sensing_settings.cache_clear()
    configure_logging()


def test_the_roll_command_moves_readings_older_than_the_kept_days(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    # The command runs at the real time: the readings are placed around it.
    clock = FixedClock(datetime.now(UTC))
    store(db, clock, [45, 31, 29, 1])
    result = cli.invoke(app, ["sensors", "roll"])
    assert result.exit_code == 0, result.output
    lake = tmp_path / "lake"
    assert "rolled 2 readings into 2 files" in result.output
    assert str(lake) in result.output
    assert in_db(db) == [1.0, 29.0]
    assert in_lake(lake, clock) == [31.0, 45.0]
    day = (clock.now() - timedelta(days=45)).date().isoformat()
    assert list((lake / "sensing_readings" / "quantity=pm2_5" / f"date={day}").glob("*.parquet"))
    again = cli.invoke(app, ["sensors", "roll"])
    assert again.exit_code == 0 and "rolled 0 readings into 0 files" in again.output


def test_the_scheduled_roll_runs_each_interval_and_survives_a_failure(
    db: Database, city: City, clock: FixedClock, tmp_path: Path
) -> None:
    store(db, clock, [40, 35, 3])
    lake = tmp_path / "lake"
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            assert in_db(db) == [3.0]  # the first round rolled the two old days
            clock.advance(timedelta(days=10))  # the next round sees a later cutoff
        if len(waits) == 3:
            raise asyncio.CancelledError  # the server stops

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(scheduler.roll_forever(db, lake, clock, 30, 900.0, sleep=sleep))
    assert waits == [900.0, 900.0, 900.0]
    assert in_db(db) == [3.0]
    assert in_lake(lake, clock) == [35.0, 40.0]
    assert horizon(lake) == datetime(2026, 2, 10, tzinfo=UTC)  # 30 days before 03-12

    broken = tmp_path / "not-a-dir"
    broken.write_text("a file where the lake should be")
    waits.clear()
    with capture_logs() as logs, pytest.raises(asyncio.CancelledError):
        asyncio.run(scheduler.roll_forever(db, broken, clock, 1, 900.0, sleep=sleep))
    assert len(waits) == 3  # a failed roll does not end the loop
    failed = [e for e in logs if e["event"] == "sensing.roll_failed"]
    assert len(failed) == 2 and failed[0]["log_level"] == "error"
    assert in_db(db) == [3.0]  # nothing rolled, nothing lost


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    """What the server started the roll with (the loop itself is stood in for)."""
    calls: list[tuple[Any, ...]] = []

    def fake(*args: Any) -> Coroutine[Any, Any, None]:
        calls.append(args)
        return asyncio.sleep(3600)  # cancelled when the server stops

    monkeypatch.setattr("onegrid.api.v1.sensing.roll_forever", fake)
    monkeypatch.setenv("ONEGRID_SENSING_ROLL_INTERVAL_S", "600")
    monkeypatch.setenv("ONEGRID_SENSING_KEEP_DAYS", "14")
    monkeypatch.setenv("ONEGRID_ANALYTICS_REFRESH_ENABLED", "false")
    sensing_settings.cache_clear()
    yield calls
    sensing_settings.cache_clear()


def test_the_server_schedules_the_roll_on_sqlite_only(
    db: Database, clock: FixedClock, tmp_path: Path, started: list[tuple[Any, ...]]
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path), db=db, clock=clock)):
        pass
    if db.dialect == "sqlite":
        assert started == [(db, tmp_path / "lake", clock, 14, 600.0)]
    else:
        assert started == []  # PostgreSQL keeps its readings unless someone rolls them


def test_the_schedule_can_be_switched_off(
    db: Database,
    clock: FixedClock,
    tmp_path: Path,
    started: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONEGRID_SENSING_ROLL_ENABLED", "false")
    sensing_settings.cache_clear()
    with TestClient(create_app(Settings(data_dir=tmp_path), db=db, clock=clock)):
        pass
    assert started == []


@pytest.mark.parametrize("interval", [0, 59, 8 * 86400])
def test_the_interval_is_checked(interval: float) -> None:
    with pytest.raises(ValidationError, match="roll_interval_s"):
        SensingSettings(roll_interval_s=interval)
