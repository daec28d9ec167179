"""Two ingest processes sharing one database, each with the devices of its shard: every reading
stored once, each condition one alert and one case, area rules counted across the shards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from onegrid.cases.config import CaseRules
from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing import queries, services
from onegrid.sensing.domain.devices import DeviceDraft
from onegrid.sensing.domain.shards import Shard
from onegrid.sensing.ingest.pipeline import Pipeline
from onegrid.sensing.models import AlertRow, ReadingRow
from onegrid.sensing.settings import SensingSettings
from tests.integration.sensing.city import City
from tests.integration.sensing.mqtt_support import Publisher, need_broker, wait_for
from tests.integration.sensing.test_mqtt_ingest import Running
from tests.integration.sensing.test_pipeline import gateway, settle

HALVES = (Shard(0, 2), Shard(1, 2))


def water(device: str, when: Any, level: float) -> dict[str, Any]:
    return {"device": device, "ts": when.isoformat(), "values": {"water_level": level}}


def alerts(db: Database, rule: str) -> list[tuple[str, str, int]]:
    with db.reader() as s:
        rows = s.execute(
            select(AlertRow.subject, AlertRow.status, AlertRow.episodes)
            .where(AlertRow.rule_code == rule)
            .order_by(AlertRow.subject)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def stored(db: Database) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(ReadingRow)).scalar_one())


@pytest.fixture
def fourth_gauge(db: Database, city: City, clock: FixedClock) -> str:
    """WL-1 and WL-2 fall in shard 0; WL-4, in the same subdistrict, in shard 1."""
    with db.unit_of_work() as s:
        services.register_device(s, DeviceDraft("WL-4", "water_level", 116.306, 39.905), clock)
    assert [h.owns("WL-1") for h in HALVES] == [True, False]
    assert [h.owns("WL-4") for h in HALVES] == [False, True]
    return "WL-4"


def test_each_shard_keeps_its_own_devices_and_area_rules_count_across_them(
    db: Database, clock: FixedClock, rules: CaseRules, fourth_gauge: str
) -> None:
    pipelines = [Pipeline(db, clock, SensingSettings(), shard=h) for h in HALVES]
    t0 = clock.now() - timedelta(minutes=20)
    step = timedelta(minutes=5)
    deep = gateway(
        *[water(d, t0 + i * step, 0.3) for i in range(3) for d in ("WL-1", fourth_gauge)],
        {"device": "NOPE-1", "values": {"water_level": 0.3}},
    )
    outcomes = [p.process([deep]) for p in pipelines]  # both are sent the same message

    assert [o.accepted for o in outcomes] == [3, 3]
    assert stored(db) == 6
    refused = [[j.device_id for j in o.rejections] for o in outcomes]
    assert sorted(refused, key=len) == [[], ["NOPE-1"]]  # one shard dead-letters it, once
    assert alerts(db, "water.deep") == [("WL-1", "active", 1), ("WL-4", "active", 1)]
    assert alerts(db, "water.area") == [("110101001", "active", 1)]
    for outcome in outcomes:
        settle(db, outcome.written, clock, rules)
    with db.reader() as s:
        cases = s.execute(select(func.count()).select_from(CaseRow)).scalar_one()
    assert cases == 3  # two gauges and the subdistrict

    dry = gateway(*[water(d, t0 + 3 * step, 0.0) for d in ("WL-1", fourth_gauge)])
    for p in pipelines:
        p.process([dry])
    assert alerts(db, "water.area") == [("110101001", "cleared", 1)]
    assert [a[1] for a in alerts(db, "water.deep")] == ["cleared", "cleared"]


def test_a_restarted_shard_goes_on_with_the_alerts_of_its_own_devices_only(
    db: Database, clock: FixedClock, fourth_gauge: str
) -> None:
    t0 = clock.now() - timedelta(minutes=20)
    step = timedelta(minutes=5)
    deep = gateway(*[water(d, t0 + i * step, 0.3) for i in range(3) for d in ("WL-1", "WL-4")])
    for h in HALVES:
        Pipeline(db, clock, SensingSettings(), shard=h).process([deep])
    again = [Pipeline(db, clock, SensingSettings(), shard=h) for h in HALVES]
    assert again[0].engine.active_keys() == {"water.deep|WL-1"}
    assert again[1].engine.active_keys() == {"water.deep|WL-4"}
    later = gateway(*[water(d, t0 + 3 * step, 0.4) for d in ("WL-1", "WL-4")])
    for p in again:
        p.process([later])
    assert alerts(db, "water.deep") == [("WL-1", "active", 1), ("WL-4", "active", 1)]
    assert alerts(db, "water.area") == [("110101001", "active", 1)]


@pytest.fixture
def two_ingesters(
    db: Database,
    city: City,
    clock: FixedClock,
    sensing_settings: SensingSettings,
    rules: CaseRules,
    fourth_gauge: str,
) -> Iterator[list[Running]]:
    need_broker()
    runs = []
    try:
        for h in HALVES:
            runs.append(Running(db, clock, sensing_settings, rules, shard=h).start())
        yield runs
    finally:
        for run in runs:
            run.stop()


def test_two_ingest_processes_on_mosquitto_store_each_reading_once_and_raise_one_case(
    db: Database, clock: FixedClock, sensing_settings: SensingSettings, two_ingesters: list[Any]
) -> None:
    prefix = sensing_settings.topic_prefix
    t0 = clock.now() - timedelta(minutes=30)
    step = timedelta(minutes=5)
    pub = Publisher()
    expected = 0
    try:
        for i in range(6):
            when = (t0 + i * step).isoformat()
            for device in ("AQ-W1", "AQ-E1"):  # air stations, one in each shard
                pub.publish(
                    f"{prefix}/devices/{device}/readings",
                    {"ts": when, "values": {"pm2_5": 20 + i, "pm10": 40}},
                )
                expected += 2
            pub.publish(
                f"{prefix}/devices/COVER-1/readings",
                {"ts": when, "values": {"cover_open": int(i >= 2), "tilt": 2.0}},
            )
            expected += 2
            pub.publish(
                f"{prefix}/gateways/gw-1/readings",
                {"readings": [water(d, t0 + i * step, 0.3) for d in ("WL-1", "WL-4")]},
            )
            expected += 2
        pub.flush()
        wait_for(lambda: stored(db) == expected, f"{expected} readings stored")

        def cases_open() -> bool:
            with db.reader() as s:
                found = queries.list_alerts(s)
            return len(found) == 4 and all(a.case_state == "opened" for a in found)

        wait_for(cases_open, "the four alerts' cases")
    finally:
        pub.close()
    assert [r.ingester.received for r in two_ingesters] == [24, 24]  # each is sent everything
    assert alerts(db, "cover.open") == [("COVER-1", "active", 1)]
    assert alerts(db, "water.deep") == [("WL-1", "active", 1), ("WL-4", "active", 1)]
    assert alerts(db, "water.area") == [("110101001", "active", 1)]
    with db.reader() as s:
        refs = s.execute(select(CaseRow.external_ref)).scalars().all()
        dead = queries.list_dead_letters(s)
    assert len(refs) == len(set(refs)) == 4
    assert dead == []
    assert stored(db) == expected  # nothing more arrived late, nothing twice
