"""What the Open311 endpoints depend on, resolved on the event loop.

FastAPI runs every sync dependency in the thread pool: a GET of requests made four such trips
before its handler ran, each a wait for a thread (and the GIL) under load. These only read the
app's state, so they are ``async``; a handler opens its own read or unit of work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from onegrid.api.open311.forms import PostedBody, read_body
from onegrid.core.clock import Clock
from onegrid.core.settings import Settings
from onegrid.db.session import Database


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _form(request: Request) -> AsyncIterator[PostedBody]:
    body = await read_body(request)
    try:
        yield body
    finally:
        await body.close()  # the uploads' spooled files


Db = Annotated[Database, Depends(_database)]
AppClock = Annotated[Clock, Depends(_clock)]
AppSettings = Annotated[Settings, Depends(_settings)]
Form = Annotated[PostedBody, Depends(_form)]
