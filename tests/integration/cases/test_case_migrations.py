"""The cases branch steps down and up again with cases stored, on SQLite and PostgreSQL.

A fresh database per backend (not the session's shared one): the test takes revisions away.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from onegrid.cases import services
from onegrid.cases.config import CaseRules
from onegrid.cases.models import CaseHistoryRow, CaseRow
from onegrid.core.clock import FixedClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.grid import services as grid
from onegrid.grid.crs import parse_crs
from onegrid.grid.importing.addresses import read_address_csv
from onegrid.schema import alembic_config, drift, migrate
from tests.conftest import BACKENDS, _drop_pg_database, _fresh_pg_database
from tests.integration.cases.city import IN_CORE, SANITATION, START, build_city
from tests.integration.cases.helpers import to_handling
from tests.support import need, port_open

pytestmark = pytest.mark.postgres


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        need(
            port_open("127.0.0.1", 5432),
            "PostgreSQL",
            "start it (127.0.0.1:5432, trust auth, database test)",
        )
        url = _fresh_pg_database()
        db = Database(make_engine(url))
        yield db
        db.engine.dispose()
        _drop_pg_database(url)
    else:
        db = Database(make_engine(f"sqlite:///{tmp_path / 'steps.sqlite3'}"))
        yield db
        db.engine.dispose()


def _downgrade(engine: Engine, target: str) -> None:
    """As ``schema.migrate`` drives Alembic: one connection, one transaction."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)


def _cases_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return next((h for h in heads if h.startswith("cases_")), None)


def test_the_cases_branch_steps_down_and_up_with_cases_stored(
    fresh: Database, clock: FixedClock, rules: CaseRules, tmp_path: Path
) -> None:
    migrate(fresh.engine)
    with fresh.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        drafts, problems = read_address_csv(
            ["id,address,lon,lat", f"A-1,示范路 1 号,{IN_CORE[0]},{IN_CORE[1]}"],
            parse_crs("wgs84"),
        )
        grid.load_addresses(s, drafts, problems, clock, valid_from=START)
    rec = to_handling(fresh, clock, rules, address_id="A-1")
    assert rec.address_id == "A-1"
    services.request_hold(
        fresh, SANITATION, rec.id, clock=clock, rules=rules, reason="冬季停工",
        resume_on=date(2026, 4, 1),
    )  # fmt: skip
    with fresh.engine.connect() as conn:
        history = conn.execute(select(func.count()).select_from(CaseHistoryRow)).scalar_one()
    assert history >= 4  # reported, filed, dispatched, accepted, asked

    # One revision at a time: cases_0009 (the creator's index), cases_0008 (the returned
    # queue's index), cases_0007 (the address id), cases_0006 (the pending indexes), then
    # cases_0005 (the columns).
    _downgrade(fresh.engine, "cases@-1")
    assert _cases_revision(fresh.engine) == "cases_0008"
    assert "ix_cases_created_by" not in {
        i["name"] for i in inspect(fresh.engine).get_indexes("cases")
    }
    _downgrade(fresh.engine, "cases@-1")
    assert _cases_revision(fresh.engine) == "cases_0007"
    assert "ix_cases_returned" not in {
        i["name"] for i in inspect(fresh.engine).get_indexes("cases")
    }
    _downgrade(fresh.engine, "cases@-1")
    assert _cases_revision(fresh.engine) == "cases_0006"
    assert "address_id" not in {c["name"] for c in inspect(fresh.engine).get_columns("cases")}
    _downgrade(fresh.engine, "cases@-1")
    assert _cases_revision(fresh.engine) == "cases_0005"
    _downgrade(fresh.engine, "cases@-1")
    assert _cases_revision(fresh.engine) == "cases_0004"
    tables = inspect(fresh.engine)
    assert not [t for t in tables.get_table_names() if t.startswith("_alembic_tmp")]
    columns = {c["name"] for c in tables.get_columns("cases")}
    assert {"hold_requested_at", "hold_resume_on"}.isdisjoint(columns)
    with fresh.engine.connect() as conn:
        assert conn.execute(select(CaseRow.__table__.c.number)).scalars().all() == [rec.number]
        after = conn.execute(select(func.count()).select_from(CaseHistoryRow)).scalar_one()
    assert after == history  # nothing of the append-only history is lost on the way down

    migrate(fresh.engine)
    assert _cases_revision(fresh.engine) == "cases_0009"
    assert drift(fresh.engine) == []  # what check-schema compares
    with fresh.engine.connect() as conn:
        # Stepped down past cases_0007 and up again, the id is gone: a case then keeps none.
        kept = conn.execute(select(CaseRow.__table__.c.address_id)).scalars().all()
    assert kept == [None]
