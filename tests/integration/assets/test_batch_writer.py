"""The batch writer on each backend (executemany on SQLite, COPY on PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from onegrid.assets.batches import BatchWriter
from onegrid.assets.importing import COMPONENTS
from onegrid.assets.models import ComponentRow
from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict
from onegrid.db.session import Database


def _batch(ids: list[str], clock: FixedClock) -> dict[str, list[Any]]:
    n = len(ids)
    return {
        "id": ids,
        "name": ["井盖 '1'\t\\ \"x\"", ""][:n] + [""] * max(0, n - 2),
        "class_code": ["C0101"] * n,
        "admin_code": [i[:6] for i in ids],
        "competent_department": [None] * n,
        "owner": ["water"] * n,
        "maintainer": [None] * n,
        "unit_grid": [None] * n,
        "community": [None] * n,
        "subdistrict": [None] * n,
        "district": ["110101"] * n,
        "lon": [116.305] * n,
        "lat": [39.91] * n,
        "h3_10": [622236750694711295] * n,
        "state": ["normal"] * n,
        "first_recorded": [date(2026, 1, 5)] * n,
        "last_changed": [clock.now()] * n,
        "data_source": [None] * n,
        "note": ["line one\nline two"] + [None] * (n - 1),
    }


def test_rows_round_trip_with_awkward_text(db: Database, clock: FixedClock) -> None:
    ids = ["1101010101000001", "1101010101000002"]
    with db.engine.connect() as conn, conn.begin():
        writer = BatchWriter(conn, COMPONENTS)
        writer.submit(_batch(ids, clock))
        assert writer.close() == 2
    with db.reader() as s:
        rows = s.scalars(select(ComponentRow).order_by(ComponentRow.id)).all()
        first = rows[0]
        assert [r.id for r in rows] == ids
        assert first.name == "井盖 '1'\t\\ \"x\"" and first.note == "line one\nline two"
        assert first.maintainer is None and rows[1].note is None
        assert (first.first_recorded, first.last_changed) == (date(2026, 1, 5), clock.now())
        assert first.h3_10 == 622236750694711295


def test_an_id_stored_meanwhile_is_a_conflict(db: Database, clock: FixedClock) -> None:
    with db.engine.connect() as conn, conn.begin():
        writer = BatchWriter(conn, COMPONENTS)
        writer.submit(_batch(["1101010101000001"], clock))
        writer.close()
    with db.engine.connect() as conn, conn.begin():
        writer = BatchWriter(conn, COMPONENTS)
        writer.submit(_batch(["1101010101000002", "1101010101000001"], clock))
        with pytest.raises(Conflict, match="another writer"):
            writer.close()
