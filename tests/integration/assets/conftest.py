from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.assets.city import build_city


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    """The two-district city with real-looking admin codes, its departments and taxonomy."""
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
    return db
