"""``onegrid hotline …`` against a SQLite file under the data directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onegrid.cases.config import case_rules
from onegrid.cases.domain.states import Nature
from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.dispatch.config import duplicate_rules, hotline_rules
from onegrid.dispatch.hotline.intake import CallDraft
from onegrid.dispatch.hotline.services import DeskRules, record_call
from onegrid.dispatch.routing.services import record_contact
from onegrid.schema import migrate
from tests.integration.cases.city import IN_CORE, SANITATION
from tests.integration.dispatch.city import DESK, build_desk_city

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("ONEGRID_DATABASE_URL", raising=False)
    (tmp_path / "var").mkdir()
    return tmp_path / "var"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["hotline", *args])
    return result.exit_code, result.output


def test_knowledge_base_and_bad_month(data_dir: Path) -> None:
    code, out = _run("kb-load")
    assert code == 0 and "8 answers loaded" in out, out
    code, out = _run("kb-search", "停电了怎么办")
    assert code == 0 and out.startswith("KB-POWER-001"), out
    code, out = _run("rates", "--month", "2026-3x")
    assert code == 1 and "month_format" in out
    code, out = _run("duplicates")
    assert code == 0 and "no proposed proposals" in out
    code, out = _run("dup-index")
    assert code == 0 and "0 open cases indexed" in out, out


def test_rates_of_a_month(data_dir: Path) -> None:
    db = Database(make_engine(f"sqlite:///{data_dir / 'onegrid.sqlite3'}"))
    migrate(db.engine)
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    rules = case_rules("Asia/Shanghai")
    with db.unit_of_work() as s:
        build_desk_city(s, clock, data_dir)
    desk = DeskRules(rules, hotline_rules(), duplicate_rules(), data_dir)
    draft = CallDraft(
        Nature.COMPLAINT, "垃圾堆积", lon=IN_CORE[0], lat=IN_CORE[1], category_code="E0102"
    )
    made = record_call(db, DESK, draft, clock=clock, rules=desk)
    assert made.case is not None
    record_contact(db, SANITATION, made.case.id, clock=clock)
    db.engine.dispose()
    code, out = _run("rates", "--month", "2026-03", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["period"] == "2026-03" and data["basically_satisfied_weight"] == 0.8
    [unit] = data["units"]
    assert (unit["unit"], unit["dispatched"], unit["response_rate"]) == ("sanitation", 1, 1.0)
    code, out = _run("rates", "--month", "2026-03")
    assert code == 0 and "sanitation" in out and "100.0 %" in out
