"""The lake refresh as a server job: run every ``refresh_interval_seconds`` inside the server.

Refreshes are serialised by the lake's file lock, so the job, ``onegrid analytics refresh`` from
cron and a second server never write the same version; a refresh with nothing new publishes
nothing. A failed run is logged and the next one tries again (the lake is never half-written).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from onegrid.analytics.lake import Lake, RefreshReport
from onegrid.core.logging import get_logger
from onegrid.db.session import Database

log = get_logger("onegrid.analytics.scheduler")


def refresh_once(db: Database, data_dir: Path, salt: bytes) -> RefreshReport:
    report = Lake.under(data_dir).refresh(db, salt=salt)
    if report.changed:
        log.info("lake refreshed", version=report.version, rows=report.rows, seconds=report.seconds)
    return report


async def refresh_forever(db: Database, data_dir: Path, salt: bytes, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(refresh_once, db, data_dir, salt)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop must survive a bad run
            log.error("lake refresh failed", error=repr(exc))
