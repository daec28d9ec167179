"""``onegrid sensors replay`` and ``onegrid sensors simulate`` against a SQLite file (and the
test broker for the simulation)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import FixedClock, SystemClock
from onegrid.core.logging import configure_logging
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.schema import migrate
from onegrid.sensing import queries
from onegrid.sensing.ingest.mqtt import MqttIngester
from onegrid.sensing.ingest.pipeline import Pipeline
from onegrid.sensing.models import AlertRow, DeadLetterRow, ReadingRow
from onegrid.sensing.settings import SensingSettings, sensing_settings
from tests.integration.sensing.city import add_devices, build_city
from tests.integration.sensing.mqtt_support import need_broker, wait_for

START = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ONEGRID_DATABASE_URL", url)
    monkeypatch.setenv("ONEGRID_SENSING_TOPIC_PREFIX", f"onegrid-cli/{tmp_path.name[-12:]}")
    sensing_settings.cache_clear()
    db = Database(make_engine(url))
    migrate(db.engine)
    with db.unit_of_work() as s:
        clock = FixedClock(START)
        add_devices(s, clock, build_city(s, clock, tmp_path))
    yield db
    db.engine.dispose()
    sensing_settings.cache_clear()
    configure_logging()


def count(db: Database, table: type) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


def test_replay_a_long_file_at_a_given_speed(env: Database, tmp_path: Path) -> None:
    # AQ-W1 reports every minute: 150 minutes above 75 µg/m³, then clean air.
    lines = ["device,ts,quantity,value"]
    for minute in range(200):
        when = (START + timedelta(minutes=minute)).isoformat()
        lines.append(f"AQ-W1,{when},pm2_5,{90 if minute < 150 else 20}")
    lines.append(f"AQ-W1,{START.isoformat()},radon,1")  # AQ-W1 reports no radon
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    # 200 recorded minutes at 30,000× take 0.4 s.
    result = CliRunner().invoke(app, ["sensors", "replay", str(path), "--speed", "30000"])
    took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert took >= 0.35
    assert "aq.pm25.high: 1 episodes" in result.output
    assert "unknown_quantity" in result.output
    assert count(env, ReadingRow) == 200
    with env.reader() as s:
        alert = s.scalars(select(AlertRow).where(AlertRow.rule_code == "aq.pm25.high")).one()
        assert alert.status == "cleared"
        assert alert.started_at == START
        assert alert.cleared_at == START + timedelta(minutes=150)

    again = CliRunner().invoke(app, ["sensors", "replay", str(path), "--no-store"])
    assert again.exit_code == 0, again.output
    assert count(env, ReadingRow) == 200


def test_simulate_publishes_valid_readings_for_every_device(env: Database) -> None:
    need_broker()
    settings = SensingSettings(
        topic_prefix=sensing_settings().topic_prefix,
        mqtt_client_id=f"onegrid-cli-{time.monotonic_ns()}",
        session_expiry_s=60,
        batch_max_ms=50,
    )
    ingester = MqttIngester(Pipeline(env, SystemClock(), settings), settings)
    ingester.start()
    try:
        wait_for(ingester.subscribed.is_set, "the subscription", 20)
        result = CliRunner().invoke(app, ["sensors", "simulate", "--backfill-hours", "2"])
        assert result.exit_code == 0, result.output
        # 2 micro stations each minute, 1 cover every 5 min, 2 gauges every 5 min.
        wait_for(lambda: ingester.received >= 2 * 120 + 3 * 24, "the readings", 60)
        wait_for(lambda: ingester.pipeline.backlog() == 0, "the ingest", 30)
    finally:
        ingester.stop()
    assert count(env, DeadLetterRow) == 0
    with env.reader() as s:
        latest = queries.latest_values(s, queries.list_devices(s))
    assert set(latest) == {"AQ-W1", "AQ-E1", "COVER-1", "WL-1", "WL-2"}
    for device in ("AQ-W1", "AQ-E1"):
        assert 0 < latest[device]["pm2_5"][1] < 300
        assert {"pm2_5", "pm10", "temperature", "humidity"} <= set(latest[device])
    assert latest["WL-1"]["water_level"][1] >= 0


@pytest.mark.parametrize("shard", ["2/2", "half"])
def test_ingest_refuses_a_shard_that_is_not_i_of_n(env: Database, shard: str) -> None:
    result = CliRunner().invoke(app, ["sensors", "ingest", "--shard", shard])
    assert result.exit_code == 1
    assert "shard" in result.output and ("i/N" in result.output or "count" in result.output)
