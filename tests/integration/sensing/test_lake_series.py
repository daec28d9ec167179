"""Readings roll from the database into the Parquet lake; series read both, the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing.ingest.pipeline import Message, Pipeline
from onegrid.sensing.lake import cutoff, horizon, read_lake, roll_to_lake
from onegrid.sensing.models import ReadingRow
from onegrid.sensing.series import raw_readings, series
from onegrid.sensing.settings import SensingSettings
from tests.integration.sensing.city import City

START = datetime(2026, 2, 25, tzinfo=UTC)
HOURS = 5 * 24


def store(pipeline: Pipeline, device: str, hours: range, offset: float = 0.0) -> None:
    entries = [
        {
            "device": device,
            "ts": (START + timedelta(hours=h)).isoformat(),
            "values": {"pm2_5": float(h % 24) + offset, "pm10": 2.0 * h},
        }
        for h in hours
    ]
    message = Message(
        "test", "onegrid/v1/gateways/gw/readings", orjson.dumps({"readings": entries}), 0.0
    )
    assert pipeline.process([message]).rejections == []


def in_db(db: Database) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(ReadingRow)).scalar_one())


def test_a_roll_moves_old_days_to_the_lake_and_series_do_not_change(
    db: Database, city: City, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(START + timedelta(hours=HOURS))
    pipeline = Pipeline(db, clock, SensingSettings(rules_file=Path("unused")), rules=[])
    store(pipeline, "AQ-W1", range(HOURS))
    store(pipeline, "AQ-E1", range(HOURS), offset=100.0)
    lake = tmp_path / "lake"
    end = START + timedelta(hours=HOURS)

    def daily() -> list[tuple[datetime, int, float, float, float]]:
        with db.reader() as s:
            found = series(s, quantity="pm2_5", start=START, end=end, bucket_s=86400, lake=lake)
        return [(p.start, p.count, p.mean, p.min, p.max) for p in found.points]

    before = daily()
    assert [p[1] for p in before] == [48] * 5
    assert before[0][2:] == (61.5, 0.0, 123.0)
    split = cutoff(end, keep_days=2)
    assert split == datetime(2026, 2, 28, tzinfo=UTC)
    report = roll_to_lake(db, lake, split)
    assert report.rows == 2 * 3 * 24 * 2  # 2 devices, 3 days, 24 h, 2 quantities
    assert in_db(db) == 2 * 2 * 24 * 2
    assert horizon(lake) == split
    part = lake / "sensing_readings" / "quantity=pm2_5" / "date=2026-02-25"
    files = list(part.glob("*.parquet"))
    assert len(files) == 1 and pq.read_table(files[0]).num_rows == 48
    assert daily() == before

    with db.reader() as s:
        east = series(
            s, quantity="pm2_5", start=START, end=end, area="110112", bucket_s=86400, lake=lake
        )
        raw = raw_readings(s, device_id="AQ-W1", quantity="pm2_5", start=split, end=end)
    assert east.devices == 1 and all(p.min >= 100 for p in east.points)
    assert len(raw) == 48 and raw[0] == (split, 0.0)

    # A second roll, and late readings of a rolled day, never duplicate a row.
    assert roll_to_lake(db, lake, split).rows == 0
    store(pipeline, "AQ-W1", range(0, 3))  # late copies of 2026-02-25 00:00–02:00
    assert roll_to_lake(db, lake, split).rows == 6
    rolled = read_lake(lake, quantity="pm2_5", start=START, end=split)
    assert rolled.num_rows == 2 * 3 * 24
    assert daily() == before


def test_series_pick_a_bucket_for_the_points_asked(
    db: Database, city: City, clock: FixedClock
) -> None:
    clock.set(START + timedelta(hours=HOURS))
    pipeline = Pipeline(db, clock, SensingSettings(), rules=[])
    store(pipeline, "AQ-W1", range(48))
    with db.reader() as s:
        found = series(
            s,
            quantity="pm2_5",
            start=START,
            end=START + timedelta(hours=48),
            device_ids=["AQ-W1"],
            max_points=10,
        )
    assert found.bucket_s == 21600
    assert [p.count for p in found.points] == [6] * 8
    assert found.points[0].mean == 2.5
