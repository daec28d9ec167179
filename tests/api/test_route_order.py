"""The app matches its busy routers first; every path must still reach the same endpoint."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match


def _endpoint(routes: Sequence[BaseRoute], path: str, method: str, app: FastAPI) -> str | None:
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "app": app}
    scope |= {"headers": [], "query_string": b""}
    for route in routes:
        match, child = route.matches(scope)
        if match != Match.FULL:
            continue
        leaf = route
        if hasattr(route, "_match"):  # an included router: which of its routes
            scope.update(child)
            _, _, leaf, _ = route._match(scope)
        endpoint = getattr(leaf, "endpoint", leaf)
        return f"{endpoint.__module__}.{getattr(endpoint, '__name__', type(endpoint).__name__)}"
    return None


def test_every_documented_path_reaches_the_same_endpoint_in_both_orders(
    client: TestClient,
) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    assert app.routes != app.router.routes, "the busy routers are matched first"
    doc = client.get("/openapi.json").json()
    checked = 0
    for path, operations in doc["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            documented = _endpoint(app.routes, concrete, method.upper(), app)
            assert documented is not None, (method, path)
            assert _endpoint(app.router.routes, concrete, method.upper(), app) == documented
            checked += 1
    assert checked > 100


def test_the_document_lists_paths_in_the_order_routers_were_included(
    client: TestClient,
) -> None:
    paths = list(client.get("/openapi.json").json()["paths"])
    assert paths.index("/healthz") < paths.index("/api/v1/cases")
