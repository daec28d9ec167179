"""FastAPI dependencies: the database session, the clock, the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.settings import Settings
from onegrid.db.session import Database


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    with db.unit_of_work() as session:
        yield session


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# "function" scope: the transaction ends before the response is sent. FastAPI's default for a
# dependency with yield ends it after, so a client could read before the commit and a failed
# commit would already have been answered 201.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
AppClock = Annotated[Clock, Depends(get_clock)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
