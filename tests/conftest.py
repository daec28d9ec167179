"""Fixtures: a migrated database per backend (SQLite always, PostgreSQL when reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine, text

from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.schema import load_all_models, migrate
from tests.support import need, port_open

PG_ADMIN_URL = os.environ.get(
    "ONEGRID_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def _fresh_pg_database() -> str:
    name = f"onegrid_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    if request.param == "postgresql":
        need(
            port_open("127.0.0.1", 5432),
            "PostgreSQL",
            "start it (127.0.0.1:5432, trust auth, database test)",
        )
        url = _fresh_pg_database()
        db = Database(make_engine(url))
        migrate(db.engine)
        yield db
        db.engine.dispose()
        _drop_pg_database(url)
    else:
        path: Path = tmp_path_factory.mktemp("sqlite") / "onegrid.sqlite3"
        db = Database(make_engine(f"sqlite:///{path}"))
        migrate(db.engine)
        yield db
        db.engine.dispose()


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    """A migrated, empty database; every table is emptied after the test."""
    yield migrated_db
    metadata = load_all_models()
    with migrated_db.engine.begin() as conn:
        guards = _lift_delete_guards(conn)
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        for sql in guards:
            conn.exec_driver_sql(sql)


def _lift_delete_guards(conn: Connection) -> list[str]:
    """Let the fixture empty append-only tables, whose triggers refuse a DELETE: PostgreSQL
    skips ordinary triggers in a replica session (this transaction only); SQLite has no such
    switch, so its delete guards are dropped and returned, to be created again."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return []
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%BEFORE DELETE%'"
    ).all()
    for name, _ in rows:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [str(sql) for _, sql in rows]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # Mon 09:00 in Beijing


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def client(db: Database, clock: FixedClock, settings: Settings) -> Iterator[TestClient]:
    from onegrid.api.app import create_app

    app = create_app(settings, db=db, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
