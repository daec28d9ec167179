from __future__ import annotations

from onegrid.db.session import Database
from onegrid.schema import drift, migrate


def test_migrations_match_models_and_are_idempotent(db: Database) -> None:
    migrate(db.engine)  # a second run changes nothing
    assert drift(db.engine) == []
