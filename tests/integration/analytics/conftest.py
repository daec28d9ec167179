from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.cases.config import CaseRules, case_rules
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from tests.integration.cases.city import build_city


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
    return db


@pytest.fixture(scope="session")
def rules() -> CaseRules:
    return case_rules("Asia/Shanghai")
