"""SQLite's one writer, and group commit for the busiest writes (ADR 0011).

SQLite takes one writer at a time, and a writer that finds the file locked sleeps in its busy
handler in growing steps (up to 100 ms) before it tries again. Under load (64 connections on one
worker) writers spent most of their time asleep: p50 370 ms at 130 cases/s. Writers of one
process queue on ``one_writer`` instead and start the moment the previous one commits.

A commit costs as much again as the statements of a case (the WAL frames of every page touched,
the connection, the transaction), so the writes that come in together, such as reports, share
one: ``GroupCommit.run`` queues a write, and whichever thread gets the writer runs every write
queued so far in one transaction, each in turn, and commits them together. A write that fails
before it changes anything (a refused report: every check reads before the first write) fails
alone; one that fails after writing rolls the whole group back, and each write of the group then
runs again in a transaction of its own, so no write is ever half-kept and none is lost.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.orm import Session

from onegrid.db.session import Database

T = TypeVar("T")

# Re-entrant, so a use case that calls another one does not block itself.
_SQLITE_WRITER = threading.RLock()
# Sixteen writes share a commit: in process that took a create's CPU from 0.98 to 0.53 ms, and a
# write that arrives just behind a group waits for at most that many (p99 over HTTP 306–406 ms
# against 433–481 ms with groups of 64; the same rates).
GROUP_MAX = 16


@contextmanager
def one_writer(dialect: str) -> Iterator[None]:
    """Hold around a whole write transaction (through its commit); no-op but on SQLite."""
    if dialect != "sqlite":
        yield
        return
    with _SQLITE_WRITER:
        yield


@dataclass(eq=False)
class _Write(Generic[T]):
    work: Callable[[Session], T]
    done: bool = False
    value: T | None = None
    error: BaseException | None = None

    def run_alone(self, db: Database) -> None:
        try:
            with db.unit_of_work() as session:
                self.value = self.work(session)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            self.error = exc
        self.done = True

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return cast(T, self.value)


class _WroteThenFailed(Exception):
    """A write of the group failed after changing rows: the group is rolled back."""


def _refuse_commit(session: Session) -> None:
    raise RuntimeError("a write run by GroupCommit must leave the commit to it")


class GroupCommit:
    """Writes queued together share one transaction and one commit (on SQLite; elsewhere
    each write is its own transaction, as concurrent writers do not wait for each other)."""

    def __init__(self, db: Database, group_max: int = GROUP_MAX) -> None:
        self.db = db
        self.group_max = group_max
        self._queue: deque[_Write[Any]] = deque()
        self._queue_lock = threading.Lock()

    def run(self, work: Callable[[Session], T]) -> T:
        """``work``'s result once it is committed; ``work`` may run on another thread, beside
        other writes in its transaction, so it takes all it needs as arguments."""
        if self.db.dialect != "sqlite":
            with self.db.unit_of_work() as session:
                return work(session)
        # ``work`` may not call ``run`` or take ``one_writer`` with a transaction of its own:
        # that transaction would wait for the one this thread holds.
        write: _Write[T] = _Write(work)
        with self._queue_lock:
            self._queue.append(write)
        with _SQLITE_WRITER:
            while not write.done:
                self._lead()
        return write.outcome()

    def _lead(self) -> None:
        with self._queue_lock:
            group = [self._queue.popleft() for _ in range(min(len(self._queue), self.group_max))]
        try:
            self._together(group)
        except _WroteThenFailed:
            for write in group:
                write.run_alone(self.db)
        except BaseException as exc:
            # The commit failed (or the process is stopping): none of the group was kept.
            for write in group:
                write.error, write.done = exc, True
            if not isinstance(exc, Exception):
                raise
        finally:
            # Whatever stopped the group, no write taken from the queue is left waiting.
            for write in group:
                if not write.done:
                    write.error = write.error or RuntimeError("the write was not run")
                    write.done = True

    def _together(self, group: list[_Write[Any]]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        ended: list[bool] = []
        with self.db.unit_of_work() as session:
            # A write that committed or rolled back would keep or drop the group's earlier
            # writes behind their callers' backs: a commit is refused, and after a rollback
            # (the write's own, or SQLite's after a failed statement) each write runs alone.
            event.listen(session, "before_commit", _refuse_commit)
            event.listen(session, "after_rollback", lambda _s: ended.append(True))
            wrote = False
            for write in group:
                raw: Any = session.connection().connection.driver_connection
                changes = raw.total_changes
                try:
                    outcome: tuple[Any, BaseException | None] = (write.work(session), None)
                except Exception as exc:
                    pending = session.new or session.dirty or session.deleted
                    if pending or raw.total_changes != changes:
                        raise _WroteThenFailed from exc
                    outcome = (None, exc)
                if ended or (wrote and not raw.in_transaction):
                    raise _WroteThenFailed
                wrote = wrote or raw.total_changes != changes
                outcomes.append(outcome)
            event.remove(session, "before_commit", _refuse_commit)
        for write, (value, error) in zip(group, outcomes, strict=True):
            write.value, write.error, write.done = value, error, True
