"""A throw-away PostgreSQL database for one benchmark run (the same server the tests use)."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get(
    "ONEGRID_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def fresh_database(prefix: str) -> str | None:
    """The URL of a new, empty database, or None if no PostgreSQL answers."""
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    except Exception:  # noqa: BLE001 - no PostgreSQL: the SQLite figures stand alone
        return None


def drop_database(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
