from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from onegrid.cases.config import CaseRules, case_rules
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing.settings import SensingSettings
from tests.integration.sensing.city import City, add_devices, build_city


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> City:
    with db.unit_of_work() as s:
        built = build_city(s, clock, tmp_path)
        add_devices(s, clock, built)
    return built


@pytest.fixture
def sensing_settings(tmp_path: Path) -> SensingSettings:
    """Topics and a client id of the test's own: the broker is shared with other tests."""
    tag = uuid.uuid4().hex[:10]
    return SensingSettings(
        topic_prefix=f"onegrid-test/{tag}",
        mqtt_client_id=f"onegrid-test-{tag}",
        session_expiry_s=120,
        batch_max_ms=50,
        lake_dir=tmp_path / "lake",
    )


@pytest.fixture(scope="session")
def rules() -> CaseRules:
    return case_rules("Asia/Shanghai")
