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

The groups run on one writer thread of their own. An endpoint on the event loop awaits its
write (``submit``) instead of holding a thread of the pool while it waits: a pool thread that
carried each request cost more CPU, in thread switches, than the bare insert it was measured
against (1.0 against 0.6 ms a request). A caller in a thread waits for it (``run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import anyio.to_thread
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
# The writer thread ends after this long without a write, and the next write starts another:
# an app that stops (a test's, say) leaves no thread behind for long.
IDLE_SECONDS = 2.0


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
    """A queued write and whoever waits for it: a coroutine on ``loop`` (an asyncio future,
    settled on its loop) or a thread (a concurrent future, set running from the start so that
    nothing can cancel it)."""

    work: Callable[[Session], T]
    waiter: asyncio.Future[T] | Future[T]
    loop: asyncio.AbstractEventLoop | None = None
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

    def settle(self) -> None:
        """Hand the outcome to whoever waits for it."""
        if self.loop is None:
            thread_waiter = cast(Future[T], self.waiter)
            if self.error is not None:
                thread_waiter.set_exception(self.error)
            else:
                thread_waiter.set_result(cast(T, self.value))
            return
        waiter = cast("asyncio.Future[Any]", self.waiter)
        # A closed loop (the server stopped) has nobody waiting any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_resolve, waiter, self.value, self.error)


def _resolve(waiter: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    # On the waiter's loop. A caller that stopped waiting (its client went away) cancelled its
    # future; the write is done all the same, as queued.
    if waiter.cancelled():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(value)


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
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    async def submit(self, work: Callable[[Session], T]) -> T:
        """``work``'s result once it is committed, awaited on the event loop. ``work`` runs on
        another thread, beside other writes in its transaction, so it takes all it needs as
        arguments."""
        if self.db.dialect != "sqlite":
            return await anyio.to_thread.run_sync(self._alone, work)
        # An asyncio future settled on this loop: a concurrent one, chained to it, cost a
        # twentieth of a report's CPU.
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        self._queued(_Write(work, waiter, loop))
        return await waiter

    def run(self, work: Callable[[Session], T]) -> T:
        """``submit`` for a caller in a thread. The thread may not hold SQLite's writer
        (``one_writer``): the writer thread would wait for it."""
        if self.db.dialect != "sqlite":
            return self._alone(work)
        waiter: Future[T] = Future()
        waiter.set_running_or_notify_cancel()
        self._queued(_Write(work, waiter))
        return waiter.result()

    def _alone(self, work: Callable[[Session], T]) -> T:
        with self.db.unit_of_work() as session:
            return work(session)

    def _queued(self, write: _Write[Any]) -> None:
        with self._ready:
            self._queue.append(write)
            if self._thread is None:
                try:
                    self._start()
                except BaseException:
                    # No thread (the process is out of them): the caller hears it, and the
                    # next write tries to start one again.
                    self._queue.remove(write)
                    self._thread = None
                    raise
            self._ready.notify()

    def _start(self) -> None:
        # Called holding ``_ready``.
        self._thread = threading.Thread(
            target=self._serve, name="onegrid-group-commit", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._groups()
        finally:
            # Should the thread ever stop for anything but idleness, the writes queued behind
            # it get another.
            with self._ready:
                if self._thread is threading.current_thread():
                    self._thread = None
                    if self._queue:
                        self._start()

    def _groups(self) -> None:
        """The writer thread: a group at a time, each taken once the writer is this thread's,
        so that the writes that came in while another transaction held it go together."""
        while True:
            with self._ready:
                if not self._queue:
                    self._ready.wait(IDLE_SECONDS)
                if not self._queue:
                    self._thread = None
                    return
            with _SQLITE_WRITER:
                with self._ready:
                    n = min(len(self._queue), self.group_max)
                    group = [self._queue.popleft() for _ in range(n)]
                self._lead(group)
            for write in group:
                write.settle()

    def _lead(self, group: list[_Write[Any]]) -> None:
        try:
            self._together(group)
        except _WroteThenFailed:
            for write in group:
                write.run_alone(self.db)
        except BaseException as exc:  # noqa: BLE001 - each caller hears it; the thread goes on
            # The commit failed (or a write stopped its thread): none of the group was kept.
            for write in group:
                write.error, write.done = exc, True
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
