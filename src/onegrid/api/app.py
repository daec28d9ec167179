"""The app factory: one FastAPI application with every context's routers."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Host, Match
from starlette.types import Scope

from onegrid import __version__
from onegrid.api import health, ngsi_ld, open311
from onegrid.api.plain_text import PlainTextInput
from onegrid.api.problems import install_problem_handlers
from onegrid.core.clock import Clock, SystemClock
from onegrid.core.logging import configure_logging
from onegrid.core.settings import Settings, get_settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.db.writer import GroupCommit
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
        for route in self.router.routes:
            _skip_other_prefixes(route)


def _skip_other_prefixes(route: BaseRoute) -> None:
    """Let an included router with a prefix refuse a path outside it at once.

    Asked whether it matches, an included router tries each of its routes' patterns, even for a
    path none of them can match: the two Open311 routers, matched first, cost every case create
    and transition about 35 µs before the case routes were reached. Every route such a router
    holds has the prefix in its path (a ``Host`` route would not, so a router with one is left
    as it is); the override is on this instance only, so ``_match`` and ``handle`` are unchanged.
    """
    original = getattr(route, "original_router", None)
    prefix = getattr(getattr(route, "include_context", None), "prefix", "")
    if original is None or not prefix or _has_host(original.routes):
        return
    matches = route.matches

    def gated(scope: Scope) -> tuple[Match, Scope]:
        if not _route_path(scope).startswith(prefix):
            return Match.NONE, {}
        return matches(scope)

    vars(route)["matches"] = gated


def _route_path(scope: Scope) -> str:
    """The path the routes match, under the app's ``root_path`` (as Starlette's routing
    takes it; its own helper is private)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


def _has_host(routes: list[BaseRoute]) -> bool:
    for route in routes:
        if isinstance(route, Host):
            return True
        inner = getattr(route, "original_router", None)
        if inner is not None and _has_host(inner.routes):
            return True
    return False


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
    # The busiest writes (reports from every channel) share SQLite's commits (ADR 0011).
    app.state.writes = GroupCommit(app.state.db)
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
