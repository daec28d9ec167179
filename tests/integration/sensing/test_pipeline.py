"""The ingest pipeline against the database: storage, alerts, their cases, restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from onegrid.cases.config import CaseRules
from onegrid.cases.history import history_of
from onegrid.cases.queries import get_case
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing import alerting, queries, services
from onegrid.sensing.alerting import SYSTEM_PRINCIPAL
from onegrid.sensing.domain.devices import DeviceDraft
from onegrid.sensing.ingest.pipeline import Message, Pipeline
from onegrid.sensing.models import ReadingRow
from onegrid.sensing.settings import SensingSettings
from onegrid.sensing.store import Written
from tests.integration.sensing.city import City

PREFIX = "onegrid/v1"


def gateway(*entries: dict[str, Any]) -> Message:
    return Message(
        "test", f"{PREFIX}/gateways/gw/readings", orjson.dumps({"readings": list(entries)}), 0.0
    )


def pm(device: str, when: datetime, value: float) -> dict[str, Any]:
    return {"device": device, "ts": when.isoformat(), "values": {"pm2_5": value}}


def settle(db: Database, written: Written, clock: FixedClock, rules: CaseRules) -> None:
    for alert_id in written.raised:
        alerting.after_raise(db, alert_id, SYSTEM_PRINCIPAL, clock, rules)
    for alert_id in written.reopened:
        alerting.after_reopen(db, alert_id, SYSTEM_PRINCIPAL, clock, rules)
    for alert_id in written.cleared:
        alerting.after_clear(db, alert_id, clock, rules)


@pytest.fixture
def pipeline(db: Database, city: City, clock: FixedClock) -> Pipeline:
    return Pipeline(db, clock, SensingSettings())


def count(db: Database) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(ReadingRow)).scalar_one())


def test_a_message_delivered_twice_is_stored_once(
    db: Database, pipeline: Pipeline, clock: FixedClock
) -> None:
    message = gateway(pm("AQ-W1", clock.now(), 10), pm("AQ-E1", clock.now(), 12))
    assert pipeline.process([message]).accepted == 2
    assert pipeline.process([message]).accepted == 2
    assert count(db) == 2
    with db.reader() as s:
        assert queries.ingest_stats(s).accepted == {"test": 4}


def test_an_episode_raises_one_alert_updates_it_and_clears_it(
    db: Database, pipeline: Pipeline, clock: FixedClock, rules: CaseRules, city: City
) -> None:
    t0 = clock.now() - timedelta(hours=3)
    minute = timedelta(minutes=1)
    # air_micro reports every minute: above 75 from t0, held for 2 h at t0 + 119 min.
    series = [pm("AQ-W1", t0 + i * minute, 80 + (i % 7)) for i in range(150)]
    written = pipeline.process([gateway(*series[:120])]).written
    assert len(written.raised) == 1
    settle(db, written, clock, rules)
    more = pipeline.process([gateway(*series[120:])]).written
    assert more.raised == [] and more.cleared == []
    with db.reader() as s:
        (alert,) = queries.list_alerts(s)
        case = get_case(s, alert.case_id or 0)
    assert (alert.rule_code, alert.status, alert.started_at) == ("aq.pm25.high", "active", t0)
    assert (
        alert.fire_count == 1 + 30 and alert.peak_value == 86 and alert.last_value == 80 + 149 % 7
    )
    assert (case.category_code, case.component_id) == ("C0603", city.station)
    assert alert.department_code == "ecology"
    end = t0 + 150 * minute
    written = pipeline.process([gateway(pm("AQ-W1", end, 40))]).written
    assert written.cleared == [alert.id]
    settle(db, written, clock, rules)
    with db.reader() as s:
        cleared = queries.get_alert(s, alert.id)
        actions = [h.action for h in history_of(s, case.id)]
    assert (cleared.status, cleared.cleared_at, cleared.clear_noted) == ("cleared", end, True)
    assert actions == ["create", "sensor_cleared"]


def test_firing_soon_after_a_clear_reopens_the_same_alert_and_case(
    db: Database, pipeline: Pipeline, clock: FixedClock, rules: CaseRules
) -> None:
    t0 = clock.now() - timedelta(minutes=30)
    step = timedelta(minutes=1)

    def cover(i: int, value: int) -> Message:
        return Message(
            "test",
            f"{PREFIX}/devices/COVER-1/readings",
            orjson.dumps({"ts": (t0 + i * step).isoformat(), "values": {"cover_open": value}}),
            0.0,
        )

    for i, value in enumerate([1, 0, 1]):
        settle(db, pipeline.process([cover(i, value)]).written, clock, rules)
    with db.reader() as s:
        (alert,) = queries.list_alerts(s, rule_code="cover.open")
        actions = [h.action for h in history_of(s, alert.case_id or 0)]
    assert (alert.status, alert.episodes, alert.fire_count) == ("active", 2, 2)
    assert actions == ["create", "sensor_cleared", "sensor_refired"]
    # Outside the 30 min window a new episode is a new alert with its own case.
    settle(db, pipeline.process([cover(3, 0)]).written, clock, rules)
    clock.advance(timedelta(hours=1))
    t0 = clock.now() - timedelta(minutes=10)
    settle(db, pipeline.process([cover(1, 1)]).written, clock, rules)
    with db.reader() as s:
        alerts = queries.list_alerts(s, rule_code="cover.open")
    assert len(alerts) == 2 and alerts[0].case_id != alerts[1].case_id


def test_area_alerts_open_a_case_where_the_area_is(
    db: Database, pipeline: Pipeline, clock: FixedClock, rules: CaseRules
) -> None:
    t0 = clock.now() - timedelta(minutes=20)
    step = timedelta(minutes=5)
    entries = [
        {"device": d, "ts": (t0 + i * step).isoformat(), "values": {"water_level": 0.3}}
        for i in range(3)
        for d in ("WL-1", "WL-2")
    ]
    written = pipeline.process([gateway(*entries)]).written
    settle(db, written, clock, rules)
    with db.reader() as s:
        area = queries.list_alerts(s, rule_code="water.area")
        deep = queries.list_alerts(s, rule_code="water.deep")
        case = get_case(s, area[0].case_id or 0)
    assert [(a.subject_kind, a.subject, a.last_value) for a in area] == [("area", "110101001", 2.0)]
    assert len(deep) == 2 and all(a.case_state == "opened" for a in deep)
    assert (case.category_code, case.subdistrict_code) == ("E0406", "110101001")
    assert area[0].department_code == "drainage"


def test_an_alert_whose_class_needs_a_component_the_device_lacks_opens_no_case(
    db: Database, pipeline: Pipeline, clock: FixedClock, rules: CaseRules
) -> None:
    with db.unit_of_work() as s:
        services.register_device(s, DeviceDraft("LAMP-X", "street_lamp", 116.306, 39.91), clock)
    pipeline.refresh()
    message = Message(
        "test",
        f"{PREFIX}/devices/LAMP-X/readings",
        orjson.dumps({"values": {"lamp_fault": 1}}),
        clock.now().timestamp(),
    )
    settle(db, pipeline.process([message]).written, clock, rules)
    with db.reader() as s:
        (alert,) = queries.list_alerts(s, rule_code="lamp.fault")
    assert (alert.case_state, alert.case_id) == ("none", None)
    assert "on none" in (alert.case_note or "")


def test_a_new_pipeline_restores_open_alerts_and_new_devices_are_picked_up(
    db: Database, pipeline: Pipeline, clock: FixedClock, rules: CaseRules
) -> None:
    t0 = clock.now() - timedelta(minutes=10)
    settle(
        db,
        pipeline.process(
            [gateway({"device": "COVER-1", "ts": t0.isoformat(), "values": {"cover_open": 1}})]
        ).written,
        clock,
        rules,
    )
    again = Pipeline(db, clock, SensingSettings())
    written = again.process(
        [
            gateway(
                {
                    "device": "COVER-1",
                    "ts": (t0 + timedelta(minutes=1)).isoformat(),
                    "values": {"cover_open": 1},
                }
            )
        ]
    ).written
    assert written.raised == [] and written.reopened == []
    with db.reader() as s:
        (alert,) = queries.list_alerts(s, rule_code="cover.open")
    assert alert.fire_count == 2
    late = gateway({"device": "AQ-NEW", "values": {"pm2_5": 1}})
    assert again.process([late]).rejections[0].reason == "unknown_device"
    with db.unit_of_work() as s:
        services.register_device(s, DeviceDraft("AQ-NEW", "air_micro", 116.301, 39.901), clock)
        services.retire_device(s, "AQ-E1", clock)
    again.refresh()
    assert again.process([late]).accepted == 1
    retired = again.process([gateway({"device": "AQ-E1", "values": {"pm2_5": 1}})])
    assert retired.rejections[0].reason == "inactive_device"


def test_a_silent_device_raises_an_alert_on_tick(
    db: Database, pipeline: Pipeline, clock: FixedClock
) -> None:
    from onegrid.sensing.store import Batch

    clock.advance(timedelta(minutes=16))  # covers report every 5 min: 3 intervals and more
    batch = Batch()
    pipeline.tick(batch)
    silent = {e.subject for e in batch.events if e.rule.code == "device.silent"}
    assert {"COVER-1", "WL-1", "WL-2"} <= silent and "AQ-W1" in silent
    written = pipeline.write(batch)
    assert len(written.raised) == len(batch.events)
