"""Through a real Mosquitto: publish → stored → alert → case; bad payloads dead-lettered while
good readings go on; a broker restart mid-stream at QoS 1 loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from onegrid.cases.config import CaseRules
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing import queries
from onegrid.sensing.alerting import SYSTEM_PRINCIPAL, CaseWorker
from onegrid.sensing.domain.shards import Shard
from onegrid.sensing.ingest.mqtt import MqttIngester
from onegrid.sensing.ingest.pipeline import Pipeline
from onegrid.sensing.models import ReadingRow
from onegrid.sensing.settings import SensingSettings
from tests.integration.sensing.city import City
from tests.integration.sensing.mqtt_support import (
    PrivateBroker,
    Publisher,
    need_broker,
    wait_for,
)


def readings(db: Database, device: str | None = None) -> int:
    with db.reader() as s:
        query = select(func.count()).select_from(ReadingRow)
        if device:
            query = query.where(ReadingRow.device_id == device)
        return int(s.execute(query).scalar_one())


class Running:
    def __init__(
        self,
        db: Database,
        clock: FixedClock,
        settings: SensingSettings,
        rules: CaseRules,
        url: str | None = None,
        shard: Shard | None = None,
    ) -> None:
        self.pipeline = Pipeline(db, clock, settings, shard=shard)
        self.cases = CaseWorker(db, SYSTEM_PRINCIPAL, clock, rules, settle_s=0.5)
        self.pipeline.alert_listeners.append(self.cases)
        self.ingester = MqttIngester(self.pipeline, settings, url=url)

    def start(self) -> Running:
        self.cases.start()
        self.ingester.start()
        wait_for(self.ingester.subscribed.is_set, "the ingester's subscription", 20)
        return self

    def stop(self) -> None:
        self.ingester.stop()
        self.cases.stop()


@pytest.fixture
def running(
    db: Database,
    city: City,
    clock: FixedClock,
    sensing_settings: SensingSettings,
    rules: CaseRules,
) -> Iterator[Running]:
    need_broker()
    run = Running(db, clock, sensing_settings, rules).start()
    yield run
    run.stop()


def test_published_readings_are_stored_raise_an_alert_and_open_a_case(
    db: Database,
    city: City,
    clock: FixedClock,
    sensing_settings: SensingSettings,
    running: Running,
) -> None:
    prefix = sensing_settings.topic_prefix
    t0 = clock.now()
    pub = Publisher()
    try:
        pub.publish(
            f"{prefix}/devices/COVER-1/readings",
            {"ts": t0.isoformat(), "values": {"cover_open": 0, "tilt": 2.0}},
        )
        pub.publish(
            f"{prefix}/devices/COVER-1/readings",
            {
                "ts": (t0 + timedelta(minutes=5)).isoformat(),
                "values": {"cover_open": 1, "tilt": 2.5},
            },
        )
        pub.publish(
            f"{prefix}/gateways/gw-1/readings",
            {
                "readings": [
                    {"device": "AQ-W1", "ts": t0.isoformat(), "values": {"pm2_5": 30, "pm10": 50}},
                    {
                        "device": "AQ-E1",
                        "ts": t0.isoformat(),
                        "values": {"pm2_5": 0.04},
                        "units": {"pm2_5": "mg/m³"},
                    },
                ]
            },
        )
        pub.flush()
        wait_for(lambda: readings(db) == 7, "7 readings stored")

        def opened() -> bool:
            with db.reader() as s:
                found = queries.list_alerts(s, rule_code="cover.open")
            return bool(found) and found[0].case_state == "opened"

        wait_for(opened, "the alert's case")
        with db.reader() as s:
            (alert,) = queries.list_alerts(s, rule_code="cover.open")
            case = get_case(s, alert.case_id or 0)
            east = queries.latest_values(s, [queries.get_device(s, "AQ-E1")])["AQ-E1"]
        assert (alert.status, alert.subject, alert.department_code) == (
            "active",
            "COVER-1",
            "water",
        )
        assert alert.started_at == t0 + timedelta(minutes=5)
        assert (case.channel, case.category_code, case.component_id, case.status) == (
            "sensor",
            "C0102",
            city.cover,
            "to_file",
        )
        assert "Routed to water: owner of component" in case.description
        assert east["pm2_5"][1] == pytest.approx(40.0)  # mg/m³ converted

        clock.advance(timedelta(minutes=10))
        pub.publish(
            f"{prefix}/devices/COVER-1/readings",
            {"ts": (t0 + timedelta(minutes=10)).isoformat(), "values": {"cover_open": 0}},
        )
        pub.flush()

        def noted() -> bool:
            with db.reader() as s:
                a = queries.get_alert(s, alert.id)
            return a.status == "cleared" and a.clear_noted

        wait_for(noted, "the clear noted on the case")
        with db.reader() as s:
            actions = [h.action for h in history_of(s, alert.case_id or 0)]
            again = queries.list_alerts(s, rule_code="cover.open")
        assert actions == ["create", "sensor_cleared"]
        assert len(again) == 1 and again[0].cleared_at == t0 + timedelta(minutes=10)
    finally:
        pub.close()


def test_bad_payloads_are_dead_lettered_while_good_readings_go_on(
    db: Database,
    city: City,
    clock: FixedClock,
    sensing_settings: SensingSettings,
    running: Running,
) -> None:
    prefix = sensing_settings.topic_prefix
    t0 = clock.now()
    good = {"ts": t0.isoformat(), "values": {"water_level": 0.01}}
    pub = Publisher()
    try:
        pub.publish(f"{prefix}/devices/WL-1/readings", good)
        pub.publish(f"{prefix}/devices/WL-1/readings", b"{not json")
        pub.publish(f"{prefix}/devices/WL-9/readings", good)
        pub.publish(
            f"{prefix}/devices/WL-1/readings",
            {
                "ts": (t0 + timedelta(seconds=1)).isoformat(),
                "values": {"water_level": 1},
                "units": {"water_level": "kW"},
            },
        )
        pub.publish(
            f"{prefix}/devices/WL-1/readings",
            {"ts": (t0 + timedelta(hours=1)).isoformat(), "values": {"water_level": 1}},
        )
        pub.publish(f"{prefix}/devices/WL-1/readings", b"\xff\xfe binary")
        pub.publish(f"{prefix}/devices/WL-2/readings", good)
        pub.flush()
        wait_for(lambda: readings(db) == 2, "the good readings")

        def letters() -> dict[str, int]:
            with db.reader() as s:
                return queries.ingest_stats(s).dead_letters

        wait_for(lambda: sum(letters().values()) == 5, "5 dead letters")
        assert letters() == {
            "malformed_json": 2,
            "unknown_device": 1,
            "unit_mismatch": 1,
            "future_timestamp": 1,
        }
        with db.reader() as s:
            stats = queries.ingest_stats(s)
            binary = queries.list_dead_letters(s, reason="malformed_json")
        assert stats.accepted == {"mqtt": 2}
        assert stats.rejected["mqtt"]["malformed_json"] == 2
        assert {d.payload for d in binary} == {b"{not json", b"\xff\xfe binary"}
        assert all(d.topic == f"{prefix}/devices/WL-1/readings" for d in binary)
        pub.publish(
            f"{prefix}/devices/WL-1/readings",
            {"ts": (t0 + timedelta(minutes=5)).isoformat(), "values": {"water_level": 0.02}},
        )
        pub.flush()
        wait_for(lambda: readings(db) == 3, "a good reading after the bad ones")
    finally:
        pub.close()


def test_a_broker_restart_mid_stream_loses_no_reading(
    db: Database,
    city: City,
    clock: FixedClock,
    sensing_settings: SensingSettings,
    rules: CaseRules,
    tmp_path: Path,
) -> None:
    need_broker()
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    run = Running(db, clock, sensing_settings, rules, url=f"mqtt://127.0.0.1:{broker.port}").start()
    total, half = 2000, 1000
    t0 = clock.now().timestamp() - 3600
    topic = f"{sensing_settings.topic_prefix}/devices/WL-1/readings"
    pub = Publisher(broker.port, client_id=f"{sensing_settings.mqtt_client_id}-pub")
    try:
        for i in range(half):
            pub.publish(topic, {"ts": t0 + i, "values": {"water_level": 0.01}})
        # Stop the broker while readings are on their way: some stored, others not yet.
        wait_for(lambda: readings(db, "WL-1") >= 100, "the first readings")
        broker.stop()
        for i in range(half, total):
            pub.publish(topic, {"ts": t0 + i, "values": {"water_level": 0.01}})
        broker.start()
        pub.flush(120)
        wait_for(lambda: readings(db, "WL-1") == total, f"all {total} readings", 120)
        assert run.ingester.connections >= 2 and run.ingester.resumed >= 1
        with db.reader() as s:
            first, last = s.execute(
                select(func.min(ReadingRow.observed_at), func.max(ReadingRow.observed_at))
            ).one()
        assert last.timestamp() - first.timestamp() == total - 1
    finally:
        pub.close()
        run.stop()
        broker.stop()
