"""Area chains for scope checks, read from a real database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
import shapely
from sqlalchemy import event

from onegrid.db.session import Database
from onegrid.grid import coverage
from onegrid.grid.domain import Level
from onegrid.grid.models import AreaRow
from onegrid.grid.storage import shape_columns

OLD, NEW = date(2025, 1, 1), date(2026, 1, 1)
CITY, EAST, WEST = "110000", "110101", "110102"
SUB = "110101001"
CHAIN = (CITY, EAST, SUB)
# More than one IN list's worth (storage.chunks), so the walk must read a tier in parts.
UNRELATED = [f"11{n:04d}" for n in range(200, 800)]


def _area(code: str, level: Level, parent: str | None, valid_from: date, **kw: Any) -> AreaRow:
    return AreaRow(
        code=code,
        level=level.value,
        parent_code=parent,
        valid_from=valid_from,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        **shape_columns([shapely.box(116.39, 39.90, 116.40, 39.91)])[0],
        **kw,
    )


@pytest.fixture
def tree(db: Database) -> Database:
    """A city with two districts and 600 unrelated ones; the subdistrict moved from the west
    district to the east one, so its newest version names the east."""
    with db.unit_of_work() as s:
        s.add(_area(CITY, Level.CITY, None, OLD))
        s.add(_area(EAST, Level.DISTRICT, CITY, OLD))
        s.add(_area(WEST, Level.DISTRICT, CITY, OLD))
        s.add(_area(SUB, Level.SUBDISTRICT, WEST, OLD, valid_to=NEW))
        s.add(_area(SUB, Level.SUBDISTRICT, EAST, NEW))
        s.add_all(_area(code, Level.DISTRICT, CITY, OLD) for code in UNRELATED)
    return db


@dataclass
class Reads:
    selects: list[str] = field(default_factory=list)
    codes_asked: set[str] = field(default_factory=set)


@contextmanager
def _reads(db: Database) -> Iterator[Reads]:
    reads = Reads()

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.selects.append(statement)
            values = parameters.values() if isinstance(parameters, dict) else parameters
            reads.codes_asked |= {str(v) for v in values}

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield reads
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_a_chain_follows_each_codes_newest_version(tree: Database) -> None:
    with tree.reader() as s:
        chains = coverage.area_chains(s, [SUB, WEST, "999999"])
    assert chains == {SUB: CHAIN, WEST: (CITY, WEST), "999999": ("999999",)}


def test_things_not_stored_yet_hang_below_their_parents_chain(tree: Database) -> None:
    grid = "110101001001001"
    with tree.reader() as s:
        chains = coverage.chains_below(s, {grid: SUB, "110103": CITY, "120000": None})
    assert chains == {
        grid: (*CHAIN, grid),
        "110103": (CITY, "110103"),
        "120000": ("120000",),
    }


def test_a_chain_reads_its_own_areas_not_the_city(tree: Database) -> None:
    with tree.reader() as s:
        s.connection()  # checked out (and pinged) before counting
        with _reads(tree) as reads:
            chains = coverage.area_chains(s, [SUB])
    assert chains == {SUB: CHAIN}
    assert len(reads.selects) <= len(CHAIN) + 1
    # Every read names the codes it wants, and those are the chain's: none of the 600
    # unrelated districts is asked for.
    assert all("WHERE" in sql.upper() for sql in reads.selects)
    assert reads.codes_asked <= set(CHAIN)


def test_many_codes_at_once_are_read_in_chunks(tree: Database) -> None:
    with tree.reader() as s:
        chains = coverage.area_chains(s, UNRELATED * 3 + [SUB])
    assert chains[SUB] == CHAIN
    assert all(chains[code] == (CITY, code) for code in UNRELATED)
