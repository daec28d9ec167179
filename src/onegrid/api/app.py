"""The app factory: one FastAPI application with every context's routers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from onegrid import __version__
from onegrid.api import health, ngsi_ld, open311
from onegrid.api.problems import install_problem_handlers
from onegrid.core.clock import Clock, SystemClock
from onegrid.core.settings import Settings, get_settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.people.passwords import configure_hashing
from onegrid.web import install_web


def create_app(
    settings: Settings | None = None, db: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="OneGrid",
        version=__version__,
        summary="One network for a city's urban management.",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    configure_hashing(settings.auth)
    app.state.db = db or Database(make_engine(settings.effective_database_url))
    app.state.clock = clock or SystemClock()
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(ngsi_ld.router)
    for prefix in open311.PREFIXES:
        app.include_router(open311.router, prefix=prefix)
    for router in _context_routers():
        app.include_router(router, prefix="/api/v1")
    install_web(app)  # last: the web's "/" must not shadow an API route
    return app


def _context_routers() -> list[APIRouter]:
    from onegrid.api.v1 import routers

    return list(routers())
