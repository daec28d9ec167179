"""A job a router runs while the app serves: the overdue job, the lake refresh, the roll."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def running(job: Coroutine[Any, Any, None] | None) -> AsyncIterator[None]:
    """Run ``job`` (none when switched off) until the app stops serving, then cancel it and
    wait for it to end, so that no job outlives the database it writes to."""
    task = asyncio.create_task(job) if job is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
