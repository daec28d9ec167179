"""The worker stores a batch's alerts before its readings, and acknowledges after both."""

from __future__ import annotations

from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing.ingest.pipeline import Message, Pipeline
from onegrid.sensing.models import AlertRow, ReadingRow
from onegrid.sensing.settings import SensingSettings
from onegrid.sensing.store import Written
from tests.integration.sensing.city import City
from tests.integration.sensing.mqtt_support import wait_for
from tests.integration.sensing.test_pipeline import PREFIX


def counts(db: Database) -> tuple[int, int]:
    with db.reader() as s:
        alerts = s.execute(select(func.count()).select_from(AlertRow)).scalar_one()
        readings = s.execute(select(func.count()).select_from(ReadingRow)).scalar_one()
    return int(alerts), int(readings)


def test_a_raised_alert_is_stored_and_told_before_its_readings_and_acked_after_both(
    db: Database, city: City, clock: FixedClock
) -> None:
    pipeline = Pipeline(db, clock, SensingSettings(batch_max_ms=20))
    seen: list[tuple[str, tuple[int, int]]] = []
    acked: list[tuple[int, int]] = []

    def on_alerts(written: Written) -> None:
        seen.append(("alerts", counts(db)))

    def after(written: Written, _messages: object) -> None:
        seen.append(("batch", counts(db)))

    pipeline.alert_listeners.append(on_alerts)
    pipeline.listeners.append(after)
    when = clock.now().isoformat()
    body = b'{"ts": "%s", "values": {"cover_open": 1, "tilt": 2.0}}' % when.encode()
    pipeline.start()
    try:
        pipeline.submit(
            Message(
                "mqtt",
                f"{PREFIX}/devices/COVER-1/readings",
                body,
                clock.now().timestamp(),
                lambda: acked.append(counts(db)),
            )
        )
        wait_for(lambda: len(seen) == 2, "the batch")
    finally:
        pipeline.stop()
    assert seen == [("alerts", (1, 0)), ("batch", (1, 2))]
    assert acked == [(1, 2)]
