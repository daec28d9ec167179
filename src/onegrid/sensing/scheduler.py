"""The roll into the lake as a server job: every ``ONEGRID_SENSING_ROLL_INTERVAL_S`` inside the
server, on the embedded default (SQLite) only.

SQLite keeps the recent readings and the lake the rest, so the server keeps that promise by
itself. On PostgreSQL the readings stay in the database unless an operator runs ``onegrid sensors
roll`` (from cron, say): a production database is sized for them, and its backups should not
lose history to a file on one server's disk. A failed roll is logged and the next one tries again
(a roll never leaves a reading in both places or in neither, see ``lake``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from onegrid.core.clock import Clock
from onegrid.core.logging import get_logger
from onegrid.db.session import Database
from onegrid.sensing.lake import RollReport, cutoff, roll_to_lake
from onegrid.sensing.settings import SensingSettings

log = get_logger("onegrid.sensing.scheduler")


def roll_scheduled(db: Database, settings: SensingSettings) -> bool:
    """Does this server roll readings into the lake by itself?"""
    return settings.roll_enabled and db.dialect == "sqlite"


def roll_once(db: Database, lake: Path, clock: Clock, keep_days: int) -> RollReport:
    """Roll the readings older than ``keep_days`` whole days (at the clock's time)."""
    before = cutoff(clock.now(), keep_days)
    report = roll_to_lake(db, lake, before)
    if report.rows:
        log.info("sensing.rolled", rows=report.rows, files=report.files, before=before.isoformat())
    return report


async def roll_forever(
    db: Database,
    lake: Path,
    clock: Clock,
    keep_days: int,
    interval: float,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """``roll_once`` every ``interval`` seconds until cancelled (``sleep``: a test's own)."""
    while True:
        await sleep(interval)
        try:
            await asyncio.to_thread(roll_once, db, lake, clock, keep_days)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop must survive a bad run
            log.error("sensing.roll_failed", error=repr(exc)[:300])
