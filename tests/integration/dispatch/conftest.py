from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.cases.config import CaseRules, case_rules
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.config import duplicate_rules, hotline_rules
from onegrid.dispatch.hotline.services import DeskRules
from tests.integration.dispatch.city import build_desk_city


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_desk_city(s, clock, tmp_path)
    return db


@pytest.fixture(scope="session")
def rules() -> CaseRules:
    return case_rules("Asia/Shanghai")


@pytest.fixture
def desk(rules: CaseRules, tmp_path: Path) -> DeskRules:
    return DeskRules(rules, hotline_rules(), duplicate_rules(), tmp_path / "data")
