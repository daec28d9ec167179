"""The busiest paths (a case's create and transitions, an Open311 post) pay for no work a request
does not need: no per-request dependency beyond the caller's credentials or form, and no route
pattern of a router whose prefix the path is not under."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match

from onegrid.api import open311
from onegrid.api.app import create_app
from onegrid.api.open311 import deps as open311_deps
from onegrid.api.open311 import requests as open311_requests
from onegrid.api.v1 import cases
from onegrid.core.settings import Settings


def _route(routes: list[Any], path: str, method: str) -> APIRoute:
    return next(
        r
        for r in routes
        if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ())
    )


@pytest.mark.parametrize("path", ["/cases", "/cases/{case_id}/accept"])
def test_a_create_and_a_transition_resolve_only_the_callers_credentials(path: str) -> None:
    # The clock, the settings, the rules and the session come from the app's state in the
    # endpoint: each FastAPI dependency cost about 10 µs a request, the session's 30 µs.
    route = _route(cases.router.routes, path, "POST")
    assert [d.call for d in route.dependant.dependencies] == [cases.case_caller]


def test_an_open311_post_resolves_only_its_form() -> None:
    route = _route(open311_requests.router.routes, "/requests.{fmt}", "POST")
    assert [d.call for d in route.dependant.dependencies] == [open311_deps._form]


def test_an_included_router_refuses_a_path_outside_its_prefix_without_trying_its_routes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(data_dir=tmp_path))  # no request is served: no database needed
    included: list[Any] = [r for r in app.router.routes if hasattr(r, "original_router")]
    first = included[0]
    assert first.original_router is open311.router, "Open311 is matched before the case routes"
    tried: list[str] = []
    original = first.original_router.matches

    def spy(scope: dict[str, Any]) -> tuple[Match, Any]:
        tried.append(scope["path"])
        return original(scope)

    monkeypatch.setattr(first.original_router, "matches", spy)
    scope = {"type": "http", "method": "POST", "root_path": "", "headers": []}
    assert first.matches({**scope, "path": "/api/v1/cases"})[0] == Match.NONE
    assert tried == []
    assert first.matches({**scope, "path": "/open311/v2/requests.json"})[0] == Match.FULL
    assert tried == ["/open311/v2/requests.json"]
