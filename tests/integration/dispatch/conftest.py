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


@pytest.fixture
def cli_env(db: Database, desk: DeskRules, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI on the test's database and the desk's data directory."""
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(desk.data_dir))
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.engine.url.render_as_string(False))
    desk.data_dir.mkdir(parents=True, exist_ok=True)
    return desk.data_dir
