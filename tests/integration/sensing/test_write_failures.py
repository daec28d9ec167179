"""A batch the database will not take: bounded retries, nothing half-written, the stream goes on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing import queries
from onegrid.sensing.ingest import pipeline as pipeline_module
from onegrid.sensing.ingest.pipeline import Pipeline, StoreUnavailable
from onegrid.sensing.models import DeadLetterRow, ReadingRow
from onegrid.sensing.settings import SensingSettings
from tests.integration.sensing.city import City
from tests.integration.sensing.mqtt_support import wait_for
from tests.integration.sensing.test_pipeline import gateway, pm


class Failing:
    """``write_batch`` that fails ``times`` times with ``error``, then writes."""

    def __init__(self, error: Exception, times: int) -> None:
        self.error, self.left, self.calls = error, times, 0
        self.real = pipeline_module.write_batch

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise self.error
        return self.real(*args)


def locked() -> OperationalError:
    return OperationalError("INSERT …", {}, Exception("database is locked"))


def count(db: Database, table: Any) -> int:
    with db.reader() as s:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def pipeline(db: Database, city: City, clock: FixedClock) -> Pipeline:
    return Pipeline(db, clock, SensingSettings(batch_max_ms=20))


def test_a_locked_database_is_retried_a_few_times_then_refused(
    db: Database, pipeline: Pipeline, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Failing(locked(), times=100)
    monkeypatch.setattr(pipeline_module, "write_batch", failing)
    with pytest.raises(StoreUnavailable):
        pipeline.process([gateway(pm("AQ-W1", clock.now(), 10))], attempts=3)
    assert failing.calls == 3
    assert count(db, ReadingRow) == 0


def test_a_short_lock_is_waited_out(
    db: Database, pipeline: Pipeline, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "write_batch", Failing(locked(), times=2))
    assert pipeline.process([gateway(pm("AQ-W1", clock.now(), 10))], attempts=4).accepted == 1
    assert count(db, ReadingRow) == 1


def test_other_errors_are_not_retried(
    db: Database, pipeline: Pipeline, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = Failing(RuntimeError("a bug"), times=1)
    monkeypatch.setattr(pipeline_module, "write_batch", failing)
    with pytest.raises(StoreUnavailable, match="a bug"):
        pipeline.process([gateway(pm("AQ-W1", clock.now(), 10))])
    assert failing.calls == 1


def test_the_worker_dead_letters_a_batch_it_cannot_store_and_goes_on(
    db: Database, pipeline: Pipeline, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "write_batch", Failing(RuntimeError("a bug"), times=1))
    acked: list[int] = []
    pipeline.start()
    try:
        first = gateway(pm("AQ-W1", clock.now(), 10))
        pipeline.submit(
            pipeline_module.Message(
                first.source, first.topic, first.payload, 0.0, lambda: acked.append(1)
            )
        )
        wait_for(lambda: count(db, DeadLetterRow) == 1, "the dead letter")
        second = gateway(pm("AQ-E1", clock.now(), 12))
        pipeline.submit(
            pipeline_module.Message(
                second.source, second.topic, second.payload, 0.0, lambda: acked.append(2)
            )
        )
        wait_for(lambda: count(db, ReadingRow) == 1, "the next batch")
    finally:
        pipeline.stop()
    assert acked == [1, 2]
    with db.reader() as s:
        letters = queries.list_dead_letters(s)
    assert [(d.reason, d.device_id) for d in letters] == [("malformed", None)]
    assert "internal_error" in letters[0].detail
