"""The server refreshes the lake on its own, on the configured interval."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.analytics.lake import Lake
from onegrid.cases.config import CaseRules
from onegrid.cases.importing import load_historical
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from tests.integration.analytics.test_lake import T0, _cases


def _wait_for(lake: Lake, cases: int, seconds: float = 20.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lake.current() is not None:
            found = lake.connect().execute("SELECT count(*) FROM cases").fetchone()
            if found and found[0] == cases:
                return cases
        time.sleep(0.05)
    return -1


def test_the_server_refreshes_the_lake_on_its_interval(
    city: Database,
    rules: CaseRules,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from onegrid.api.app import create_app

    monkeypatch.setenv("ONEGRID_ANALYTICS_REFRESH_INTERVAL_SECONDS", "0.1")
    settings = Settings(data_dir=tmp_path)
    lake = Lake.under(tmp_path)
    load_historical(city, _cases(3, T0, "a"), rules=rules)
    with TestClient(create_app(settings, db=city, clock=clock)):
        assert _wait_for(lake, 3) == 3
        load_historical(city, _cases(2, T0, "b"), rules=rules)
        assert _wait_for(lake, 5) == 5
    assert lake.current() is not None


def test_the_job_can_be_switched_off(
    city: Database, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onegrid.api.app import create_app

    monkeypatch.setenv("ONEGRID_ANALYTICS_REFRESH_ENABLED", "false")
    monkeypatch.setenv("ONEGRID_ANALYTICS_REFRESH_INTERVAL_SECONDS", "0.05")
    with TestClient(create_app(Settings(data_dir=tmp_path), db=city, clock=clock)):
        time.sleep(0.5)
    assert Lake.under(tmp_path).current() is None
