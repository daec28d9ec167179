"""Replay four years of hourly PM2.5 at Beijing's 12 PRSA stations through the shipped rules,
and count the episodes of "PM2.5 above 75 µg/m³ for 2 h" per station and year against an
independent pandas computation of the same rule.

The rule, as the engine applies it to hourly readings: an episode begins with two consecutive
readings above 75 (readings more than 1.5 h apart are not consecutive; a missing hour breaks a
run that has not fired yet), and ends at the first reading at or below 75 (a missing hour does
not end it). Its year is the local (Beijing) year of its first reading.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services as grid
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.sensing import services
from onegrid.sensing.config import default_rule_specs
from onegrid.sensing.domain.devices import DeviceDraft
from onegrid.sensing.domain.rules import parse_rules
from onegrid.sensing.ingest.pipeline import Pipeline
from onegrid.sensing.models import AlertRow
from onegrid.sensing.replay import ReplayFormat, read_steps, replay
from onegrid.sensing.settings import SensingSettings
from tests.support import shared_file

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
TZ = "Asia/Shanghai"
RULE = "aq.pm25.high"
PM25 = ReplayFormat(
    device="station",
    device_prefix="PRSA-",
    time=("year", "month", "day", "hour"),
    timezone=TZ,
    quantities={"PM2.5": "pm2_5"},
)


def expected_episodes(path: str, before: int | None = None) -> Counter[tuple[str, int]]:
    """The same rule, computed block by block with pandas."""
    frame = pd.read_csv(path, usecols=["year", "month", "day", "hour", "PM2.5", "station"])
    frame = frame.dropna(subset=["PM2.5"])
    if before is not None:
        frame = frame[frame["year"] < before]
    frame["t"] = pd.to_datetime(frame[["year", "month", "day", "hour"]])
    frame = frame.sort_values(["station", "t"])
    out: Counter[tuple[str, int]] = Counter()
    for station, s in frame.groupby("station", sort=True):
        above = s["PM2.5"] > 75
        block = (~above).cumsum()  # a block: a run of readings above 75 between two below
        runs = s[above].assign(block=block[above])
        gap = runs.groupby("block")["t"].diff() > pd.Timedelta(hours=1.5)
        runs = runs.assign(segment=gap.groupby(runs["block"]).cumsum())
        spans = runs.groupby(["block", "segment"])["t"].agg(["min", "max"])
        # A reading stands for the hour after it: a segment holds for (last - first) + 1 h.
        qualifying = spans[
            spans["max"] - spans["min"] + pd.Timedelta(hours=1) >= pd.Timedelta(hours=2)
        ]
        starts = qualifying.groupby(level="block")["min"].min()
        for start in starts:
            out[(f"PRSA-{station}", start.year)] += 1
    return out


@pytest.fixture
def beijing(db: Database, clock: FixedClock) -> list[str]:
    options = AreaImportOptions(
        level=Level.DISTRICT,
        code_field="adcode",
        name_field="name",
        valid_from=date(2013, 1, 1),
        crs="gcj02",
        repair=True,
    )
    path = shared_file("beijing_districts_datav_110100.geojson")
    stations = pd.read_csv(shared_file("beijing_prsa_station_coords.csv"))
    devices = []
    with db.unit_of_work() as s:
        grid.import_areas(s, read_features(path), options, clock)
        services.ensure_default_rules(s, clock)
        for row in stations.itertuples():
            device = services.register_device(
                s,
                DeviceDraft(f"PRSA-{row.station}", "air_quality", row.lon, row.lat, row.name_zh),
                clock,
            )
            devices.append(device.areas["district"])
    return devices


def test_prsa_episodes_match_an_independent_computation(
    db: Database, clock: FixedClock, beijing: list[str]
) -> None:
    assert len(set(beijing)) == 8  # the 12 stations lie in 8 of the 16 districts
    path = shared_file("beijing_prsa_12stations_hourly_2013-03_2017-02.csv.gz")
    steps = read_steps(path, PM25)
    assert 34_000 < len(steps) <= 35_064  # hours when every station missed PM2.5 are no step
    everything = db.engine.dialect.name == "sqlite"
    # PostgreSQL, slower per statement, replays 2013 alone: the storage is the same code.
    before = None if everything else 2014
    if before is not None:
        end = datetime(before, 1, 1, tzinfo=ZoneInfo(TZ)).timestamp()
        steps = [step for step in steps if step.ts < end]
    # The rule under test alone: silence and the district rule would add thousands of alerts
    # of their own, which the other sensing tests cover.
    rules = [r for r in parse_rules(default_rule_specs()) if r.code == RULE]
    pipeline = Pipeline(db, clock, SensingSettings(), rules=rules, store_readings=False)
    report = replay(pipeline, steps, clock, chunk=20_000)
    assert report.rejected == Counter()
    assert report.accepted == report.readings
    if everything:
        assert report.readings == 420_768 - 8_739
    got = Counter(
        {
            (subject, year): n
            for (rule, subject, year), n in report.episodes(TZ).items()
            if rule == RULE
        }
    )
    expected = expected_episodes(str(path), before)
    assert sum(expected.values()) > (1000 if everything else 100)
    assert got == expected
    # Every episode is stored: as an alert of its own, or reopening one cleared within the hour.
    with db.reader() as s:
        stored = s.execute(
            select(func.sum(AlertRow.episodes)).where(AlertRow.rule_code == RULE)
        ).scalar_one()
    assert stored == sum(expected.values())
    if everything:
        assert report.last == datetime.fromisoformat("2017-02-28T15:00:00+00:00")
