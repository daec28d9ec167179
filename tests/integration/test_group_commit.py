"""Group commit: writes queued together share one transaction, and none is half-kept."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Table, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onegrid.cases.models import CaseNumberCounterRow
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import _SQLITE_WRITER, GroupCommit

COUNTERS: Table = CaseNumberCounterRow.__table__  # type: ignore[assignment]
pytestmark = pytest.mark.postgres


def _put(key: str) -> Callable[[Session], str]:
    def write(session: Session) -> str:
        session.connection().execute(insert(COUNTERS).values(key=key, last=1))
        return key

    return write


def _refused(session: Session) -> str:
    # A refused report: its checks read, then fail before any write.
    session.connection().execute(select(COUNTERS.c.key)).all()
    raise InvalidInput.one("category_code", "known_category", "unknown category")


def _wrote_then_failed(session: Session) -> str:
    session.connection().execute(insert(COUNTERS).values(key="half", last=1))
    raise InvalidInput.one("lon", "inside_city", "outside the city")


def _keys(db: Database) -> set[str]:
    with db.reader() as s:
        return set(s.execute(select(COUNTERS.c.key)).scalars())


@pytest.fixture
def commits(db: Database) -> Iterator[list[int]]:
    seen: list[int] = []

    def count(conn: Any) -> None:
        seen.append(1)

    event.listen(db.engine, "commit", count)
    yield seen
    event.remove(db.engine, "commit", count)


def _together(
    writes: GroupCommit, works: list[Callable[[Session], str]]
) -> list[str | BaseException]:
    """Run ``works`` from as many threads, queued while the writer is held, so that the first
    thread to get it finds them all waiting."""
    results: list[str | BaseException] = [""] * len(works)

    def one(i: int) -> None:
        try:
            results[i] = writes.run(works[i])
        except BaseException as exc:  # noqa: BLE001 - the result under test
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(works))]
    with _SQLITE_WRITER:
        for t in threads:
            t.start()
        if writes.db.dialect == "sqlite":
            while len(writes._queue) < len(works):
                time.sleep(0.001)
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a write was left waiting"
    return results


def test_writes_queued_together_share_one_commit(db: Database, commits: list[int]) -> None:
    writes = GroupCommit(db)
    keys = [f"k{i}" for i in range(12)]
    assert _together(writes, [_put(k) for k in keys]) == keys
    assert _keys(db) == set(keys)
    # SQLite: one commit for the twelve; PostgreSQL's concurrent writers each commit.
    assert len(commits) == (1 if db.dialect == "sqlite" else 12)


def test_a_write_refused_before_writing_fails_alone(db: Database, commits: list[int]) -> None:
    writes = GroupCommit(db)
    results = _together(writes, [_put("a"), _refused, _put("b")])
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], InvalidInput)
    assert _keys(db) == {"a", "b"}
    assert len(commits) == (1 if db.dialect == "sqlite" else 2)


def test_a_write_may_not_commit_the_group(db: Database) -> None:
    def commits_itself(session: Session) -> str:
        session.commit()
        return "x"

    writes = GroupCommit(db)
    results = _together(writes, [_put("a"), commits_itself])
    if db.dialect == "sqlite":
        assert isinstance(results[1], RuntimeError)
        assert "leave the commit" in str(results[1])
    assert results[0] == "a" and _keys(db) == {"a"}


def test_a_failed_commit_reaches_every_write_of_the_group(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = GroupCommit(db)

    def disk_full(session: Session) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Session, "commit", disk_full)
    results = _together(writes, [_put("a"), _put("b")])
    assert all(isinstance(r, OSError) for r in results)
    monkeypatch.undo()
    assert _keys(db) == set()


def _rolls_back(session: Session) -> str:
    session.rollback()
    raise ValueError("gave up")


@pytest.mark.parametrize(
    ("failing", "error"),
    [(_wrote_then_failed, InvalidInput), (_rolls_back, ValueError)],
    ids=["wrote_then_failed", "rolled_back"],
)
def test_a_write_that_fails_after_writing_or_rolls_back_keeps_nothing_and_the_others_stand(
    db: Database, failing: Callable[[Session], str], error: type[Exception]
) -> None:
    writes = GroupCommit(db)
    results = _together(writes, [_put("a"), failing, _put("b")])
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], error)
    # The group was rolled back and each write ran alone: "half" was never kept, and the
    # rollback did not take "a" with it.
    assert _keys(db) == {"a", "b"}


def test_a_write_that_stops_its_thread_leaves_no_other_write_waiting(db: Database) -> None:
    def stops(session: Session) -> str:
        session.connection().execute(insert(COUNTERS).values(key="stop", last=1))
        raise SystemExit(3)

    writes = GroupCommit(db)
    results = _together(writes, [_put("a"), stops, _put("b")])
    assert isinstance(results[1], SystemExit)
    if db.dialect == "sqlite":
        # The process is stopping: the group is not committed, and each caller hears so.
        assert all(isinstance(r, SystemExit) for r in results)
        assert _keys(db) == set()
    else:
        assert results[0] == "a" and results[2] == "b"
        assert _keys(db) == {"a", "b"}


def test_a_statement_the_database_refuses_fails_its_write_alone(
    db: Database, commits: list[int]
) -> None:
    writes = GroupCommit(db)
    results = _together(writes, [_put("a"), _put("a"), _put("b")])
    # Whichever of the two "a" writes comes second is refused by the primary key.
    first, second = sorted(results[:2], key=lambda r: isinstance(r, IntegrityError))
    assert first == "a" and isinstance(second, IntegrityError) and results[2] == "b"
    assert _keys(db) == {"a", "b"}
    assert len(commits) == (1 if db.dialect == "sqlite" else 2)


def test_a_caller_that_stops_waiting_stops_neither_its_write_nor_the_next(db: Database) -> None:
    """A request cancelled while its write waits (the client went away): the write is done all
    the same, as queued, and the writer thread goes on to the next."""
    writes = GroupCommit(db)

    async def scenario() -> str:
        gone = asyncio.create_task(writes.submit(_put("a")))
        await asyncio.sleep(0.2)
        gone.cancel()
        _SQLITE_WRITER.release()
        try:
            return await asyncio.wait_for(writes.submit(_put("b")), timeout=20)
        finally:
            _SQLITE_WRITER.acquire()

    with _SQLITE_WRITER:
        assert asyncio.run(scenario()) == "b"
    assert _keys(db) == {"a", "b"}


def test_a_writer_thread_that_cannot_start_fails_its_write_and_not_the_next(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("only SQLite's writes go through the writer thread")
    writes = GroupCommit(db)

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with pytest.raises(RuntimeError, match="new thread"):
        writes.run(_put("a"))
    monkeypatch.undo()
    assert writes.run(_put("b")) == "b"
    assert _keys(db) == {"b"}
