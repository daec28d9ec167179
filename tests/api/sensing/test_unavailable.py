"""A database that stays locked: the batch is refused with a 503 in bounded time, none stored."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing.ingest import pipeline as pipeline_module
from onegrid.sensing.models import ReadingRow
from tests.api.sensing.conftest import Headers

URL = "/api/v1/sensing/readings"


def test_a_locked_database_gives_a_503_and_stores_nothing(
    client: TestClient,
    db: Database,
    clock: FixedClock,
    keys: dict[str, Headers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = pipeline_module.write_batch

    def locked(*_args: Any) -> Any:
        raise OperationalError("INSERT …", {}, Exception("database is locked"))

    body = {
        "readings": [{"device": "AQ-W1", "ts": clock.now().isoformat(), "values": {"pm2_5": 9}}]
    }
    monkeypatch.setattr(pipeline_module, "write_batch", locked)
    started = time.monotonic()
    resp = client.post(URL, json=body, headers=keys["gateway"])
    assert time.monotonic() - started < 10
    assert resp.status_code == 503, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert int(resp.headers["retry-after"]) > 0
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(ReadingRow)).scalar_one() == 0

    monkeypatch.setattr(pipeline_module, "write_batch", real)
    resp = client.post(URL, json=body, headers=keys["gateway"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 1
