"""Reporter keys in a read of cases: one DuckDB for all the read's batches, closed at its end,
and a phone keyed the same in every batch."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from onegrid.analytics import sources
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.intake import Reporter
from onegrid.cases.importing import HistoricalCase, load_historical
from onegrid.db.session import Database
from tests.integration.cases.city import IN_CORE

T0 = datetime(2026, 1, 20, 2, tzinfo=UTC)
SALT = b"test-salt"
PHONES = ["138-0000-0001", "138 0000 0002", None, "13800000001", "", "no digits"]


def _key(phone: str | None) -> str | None:
    """The documented key: the first 96 bits of SHA-256(salt | digits, or the phone as given)."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit()) or phone
    return hashlib.sha256(f"{SALT.hex()}|{digits}".encode()).hexdigest()[:24]


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every DuckDB connection the reader opens."""
    opened: list[Any] = []
    real = duckdb.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(sources.duckdb, "connect", counting)
    return opened


def test_one_duckdb_keys_every_batch_and_is_closed_at_the_end(
    city: Database, rules: CaseRules, monkeypatch: pytest.MonkeyPatch, connections: list[Any]
) -> None:
    monkeypatch.setattr(sources, "BATCH", 2)
    cases = [
        HistoricalCase(
            "E0102",
            T0 + timedelta(days=i),
            *IN_CORE,
            f"case {i}",
            reporter=Reporter(phone=phone),
            external_ref=f"k:{i}",
        )
        for i, phone in enumerate(PHONES)
    ]
    load_historical(city, cases, rules=rules)
    with city.engine.connect() as conn:
        parts = list(sources.read_cases(conn, {}, SALT))
    if city.engine.dialect.name == "sqlite":  # PostgreSQL's driver sizes its own batches
        assert len(parts) == 3
    assert len(connections) == 1
    with pytest.raises(duckdb.ConnectionException):
        connections[0].execute("SELECT 1")
    keys: dict[datetime, str | None] = {}
    for part, _ in parts:
        pairs = zip(part["created_at"].to_pylist(), part["reporter_key"].to_pylist(), strict=True)
        keys.update(pairs)
    assert keys == {T0 + timedelta(days=i): _key(phone) for i, phone in enumerate(PHONES)}
    # The same digits, written two ways and read in different batches, are one reporter.
    assert keys[T0] == keys[T0 + timedelta(days=3)] is not None


def test_a_read_with_nothing_new_opens_no_duckdb(city: Database, connections: list[Any]) -> None:
    with city.engine.connect() as conn:
        assert list(sources.read_cases(conn, {}, SALT)) == []
    assert connections == []
