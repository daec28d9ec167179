"""The app factory: one FastAPI application with every context's routers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from onegrid import __version__
from onegrid.api import health, ngsi_ld, open311
from onegrid.api.plain_text import PlainTextInput
from onegrid.api.problems import install_problem_handlers
from onegrid.core.clock import Clock, SystemClock
from onegrid.core.logging import configure_logging
from onegrid.core.settings import Settings, get_settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.people.passwords import configure_hashing
from onegrid.web import install_web


class OneGridApp(FastAPI):
    """Matches requests in a different order from the one its routes are documented in.

    A request is matched against the routes one by one, and each included router costs a scan
    of all its routes: a case create once came after about 70 routes, a fifth of a millisecond
    of every request. ``match_first`` moves the busy routers to the front; ``routes`` (which
    the OpenAPI document and everything else read) keeps the order they were included in.
    Moving is safe only for routers whose paths no earlier route also matches: a test resolves
    every documented path in both orders.
    """

    _documented: list[BaseRoute] | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        matching = self.router.routes
        if self._documented is None:
            return matching
        present = {id(r) for r in matching}
        kept = [r for r in self._documented if id(r) in present]
        known = {id(r) for r in kept}
        return kept + [r for r in matching if id(r) not in known]

    def match_first(self, routers: list[APIRouter]) -> None:
        if self._documented is None:
            self._documented = list(self.router.routes)
        busy = {id(r) for r in routers}
        # An included router wraps the one passed to include_router as ``original_router``.
        self.router.routes.sort(key=lambda r: id(getattr(r, "original_router", None)) not in busy)


def create_app(
    settings: Settings | None = None, db: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    if settings is None:
        # Served as a factory (`uvicorn --factory onegrid.api.app:create_app`), no CLI callback
        # has set the logs up; `onegrid run` has, and tests pass their own settings.
        settings = get_settings()
        configure_logging(settings.log_level, settings.log_format)
    app = OneGridApp(
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
    app.add_middleware(PlainTextInput)
    app.include_router(health.router)
    app.include_router(ngsi_ld.router)
    for prefix in open311.PREFIXES:
        app.include_router(open311.router, prefix=prefix)
    for router in _context_routers():
        app.include_router(router, prefix="/api/v1")
    install_web(app)  # last: the web's "/" must not shadow an API route
    app.match_first(_busy_routers())
    return app


def _context_routers() -> list[APIRouter]:
    from onegrid.api.v1 import routers

    return list(routers())


def _busy_routers() -> list[APIRouter]:
    """The routers that take a city's writes: case creates and transitions, Open311 posts."""
    from onegrid.api.v1 import cases

    return [cases.router, open311.router]
