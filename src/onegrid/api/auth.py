"""Who is calling: FastAPI dependencies over ``people.credentials`` and ``people.policy``.

Credentials, first match wins: ``Authorization: Bearer <token>``, ``Authorization: ApiKey <key>``,
``X-API-Key: <key>``, the ``api_key`` query or form parameter (Open311 clients send it so), and
the web's session cookie (the same bearer token, HttpOnly, SameSite=Lax). A credential that is
sent but wrong is a 401, never a silent fall-back to anonymous; only a stale cookie is ignored,
so that a public page still opens after the session ended.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, APIKeyQuery, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from onegrid.api.deps import AppClock, AppSettings, DbSession
from onegrid.core.clock import Clock
from onegrid.core.errors import NotAuthenticated, PermissionDenied
from onegrid.core.settings import Settings
from onegrid.people.credentials import IssuedToken, principal_from_api_key, principal_from_token
from onegrid.people.domain import ANONYMOUS, Principal
from onegrid.people.policy import can_somewhere, explain, rule_for

SESSION_COOKIE = "onegrid_session"
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_key_query = APIKeyQuery(name="api_key", auto_error=False)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _form_key(request: Request) -> str | None:
    """``api_key`` from a form body (Starlette caches the parsed form for the endpoint)."""
    if not request.headers.get("content-type", "").startswith(_FORMS):
        return None
    value = (await request.form()).get("api_key")
    return value if isinstance(value, str) and value else None


def _header_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "apikey":
        return value.strip() or None
    if scheme and scheme.lower() != "bearer":
        raise NotAuthenticated(
            f"unsupported authorization scheme {scheme!r}: use 'Bearer <token>' or 'ApiKey <key>'"
        )
    return None


def _settle(session: Session, principal: Principal | None) -> Principal | None:
    """Commit the credential's bookkeeping (last use) now: on SQLite an open write would hold the
    database lock for the whole request, and block a handler that writes through another
    connection (the sensor ingester does)."""
    if session.in_transaction():
        session.commit()
    return principal


def _check(
    request: Request,
    session: Session,
    clock: Clock,
    secret_key: str,
    bearer: str | None,
    raw_key: str | None,
) -> Principal | None:
    """The principal behind the credential sent, reading (and, for a key's last use, writing)
    in ``session``; ``None`` when none was sent. Revocation, sign-out and deactivation are read
    on every call: nothing is cached between requests."""
    if bearer:
        principal = principal_from_token(session, bearer, clock, secret_key)
        if principal is None:
            raise NotAuthenticated("the bearer token is invalid, expired or signed out")
        return principal
    if raw_key:
        principal = principal_from_api_key(session, raw_key, clock)
        if principal is None:
            raise NotAuthenticated("the API key is malformed, unknown or revoked")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return principal_from_token(session, cookie, clock, secret_key)
    return None


def optional_principal(
    request: Request,
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    bearer: Annotated[str | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_key_header)],
    query_key: Annotated[str | None, Depends(_key_query)],
    form_key: Annotated[str | None, Depends(_form_key)],
) -> Principal | None:
    """The caller, or ``None`` when no credential was sent (an anonymous citizen)."""
    raw_key = None if bearer else _header_key(request) or header_key or query_key or form_key
    principal = _check(request, session, clock, settings.secret_key, bearer, raw_key)
    return _settle(session, principal)


def sent_key(
    request: Request, bearer: str | None, header_key: str | None, query_key: str | None
) -> str | None:
    """The API key a request authenticates with (a bearer token wins); an unsupported
    ``Authorization`` scheme is refused."""
    return None if bearer else _header_key(request) or header_key or query_key


def principal_in(
    request: Request,
    session: Session,
    clock: Clock,
    settings: Settings,
    bearer: str | None,
    header_key: str | None,
    query_key: str | None,
) -> Principal | None:
    """``optional_principal`` inside the handler's own session: no second session or thread
    for the check. Only a key's last-use write is committed at once, and only on SQLite, where
    an open write holds the database lock (on PostgreSQL it locks one row, and the caller
    commits it)."""
    raw_key = sent_key(request, bearer, header_key, query_key)
    principal = _check(request, session, clock, settings.secret_key, bearer, raw_key)
    if raw_key and _sqlite_wrote(session):
        session.commit()
    return principal


def _sqlite_wrote(session: Session) -> bool:
    # The sqlite3 module opens a transaction only before a write, so its flag says whether
    # this one wrote; reads run outside it.
    if session.get_bind().dialect.name != "sqlite":
        return False
    return bool(getattr(session.connection().connection.dbapi_connection, "in_transaction", True))


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise NotAuthenticated(f"sign in first: send a bearer token from {TOKEN_URL} or an API key")
    return principal


def principal_or_anonymous(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    return principal or ANONYMOUS


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AnyPrincipal = Annotated[Principal, Depends(principal_or_anonymous)]


def requires(action: str) -> Any:
    """A dependency that lets the request through only if the caller may do ``action``
    somewhere; the handler still checks the object itself with ``policy.require``.

    Use as ``principal: Annotated[Principal, requires("case.dispatch")]`` or in
    ``dependencies=[requires(...)]``. Anonymous callers get 401, others 403 naming the action.
    """
    rule_for(action)  # an unknown action fails when the router is imported, not at run time

    def dependency(principal: AnyPrincipal) -> Principal:
        if can_somewhere(principal, action):
            return principal
        if principal.is_anonymous:
            raise NotAuthenticated(f"sign in to {action}")
        raise PermissionDenied(explain(principal, action))

    dependency.__name__ = f"requires_{action.replace('.', '_')}"
    return Depends(dependency)


def set_session_cookie(response: Response, issued: IssuedToken, *, secure: bool) -> None:
    """Hand the web browser its session: the bearer token in an HttpOnly, SameSite=Lax cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        issued.access_token,
        expires=issued.expires_at,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
