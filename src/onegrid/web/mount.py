"""Serving the built front end: ``/`` is the single page, ``/assets`` its hashed bundle."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from onegrid.web.session import router as session_router
from onegrid.web.settings import web_settings

_NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>OneGrid</title>
<body><h1>OneGrid</h1><p>The web front end is not built. With Node.js 20 or newer, run
<code>make web</code> (or <code>make run</code>, which builds it), then reload.
The API is at <a href="/docs">/docs</a>.</p></body></html>"""


class _HashedAssets(StaticFiles):
    """The bundle's files are named by their content hash: a new build gets new names, so a
    browser may keep each file for good and never ask again (the map chunk alone is 1 MB)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def install_web(app: FastAPI, static_dir: Path | None = None) -> None:
    """Add the web's routes to ``app``; call after the API routers (``/`` must not shadow them)."""
    static = static_dir or web_settings().static_dir
    app.include_router(session_router)
    assets = static / "assets"
    if assets.is_dir():
        app.mount("/assets", _HashedAssets(directory=assets), name="web-assets")
    index = static / "index.html"

    @app.get("/", include_in_schema=False)
    def web_index() -> Response:
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
