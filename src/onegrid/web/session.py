"""The browser's session: sign in with a password and receive an HttpOnly cookie.

The cookie carries the same bearer token ``POST /api/v1/auth/token`` issues; ``api.auth`` reads
it. Keeping the token out of JavaScript's reach (HttpOnly, SameSite=Lax) is the reason the web
does not store the token itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel

from onegrid.core.clock import Clock
from onegrid.core.settings import Settings
from onegrid.db.session import Database
from onegrid.people import credentials
from onegrid.web.settings import web_settings

# Must equal onegrid.api.auth.SESSION_COOKIE (a test holds them equal); the web sits below the
# API in the layers, so it names the cookie rather than importing it.
SESSION_COOKIE = "onegrid_session"

router = APIRouter(prefix="/api/v1/web", tags=["web"])


class SessionOut(BaseModel):
    expires_at: str


class WebConfigOut(BaseModel):
    basemap_url: str
    basemap_attribution: str
    max_upload_bytes: int
    timezone: str
    city_code: str


@router.post("/session", summary="Sign in from the browser: sets the HttpOnly session cookie")
def open_session(
    request: Request,
    response: Response,
    username: Annotated[str, Form(min_length=1, max_length=150)],
    password: Annotated[str, Form(min_length=1, max_length=1000)],
) -> SessionOut:
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    clock: Clock = request.app.state.clock
    issued = credentials.sign_in(
        db,
        username,
        password,
        clock,
        secret_key=settings.secret_key,
        ttl=timedelta(minutes=settings.token_ttl_minutes),
        lockout=credentials.lockout_policy(settings.auth),
    )
    response.set_cookie(
        SESSION_COOKIE,
        issued.access_token,
        expires=issued.expires_at,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return SessionOut(expires_at=issued.expires_at.isoformat())


@router.get("/config", summary="What the front end needs to know: basemap, upload limit, zone")
def web_config(request: Request) -> WebConfigOut:
    settings: Settings = request.app.state.settings
    web = web_settings()
    return WebConfigOut(
        basemap_url=web.basemap_url,
        basemap_attribution=web.basemap_attribution,
        max_upload_bytes=web.max_upload_bytes,
        timezone=settings.timezone,
        city_code=settings.city_code,
    )
