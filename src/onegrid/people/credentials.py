"""Use cases for credentials: signing in and out, bearer-token sessions, API keys.

Like ``services``, each works inside the caller's transaction, except ``sign_in``, which owns its
transactions: a failed attempt must be recorded even though the call fails.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from onegrid.core.logging import get_logger
from onegrid.core.settings import AuthSettings
from onegrid.db.session import Database
from onegrid.people.apikeys import generate_key, matches, prefix_of
from onegrid.people.domain import (
    DEFAULT_LOCKOUT,
    LockoutPolicy,
    Principal,
    Role,
    Scope,
    SignInLocked,
    check_text,
    normalize_username,
)
from onegrid.people.models import ApiKey, AuthSession, LoginFailure, User
from onegrid.people.passwords import verify_password
from onegrid.people.queries import (
    api_key_by_prefix,
    grant_of,
    key_on_file,
    principal_of_key,
    principal_of_session,
    user_by_username,
)
from onegrid.people.services import as_grant, require_grantable
from onegrid.people.tokens import decode_token, encode_token

log = get_logger("onegrid.people")

# One message for every failed sign-in: it must not say whether the username exists.
SIGN_IN_FAILED = "wrong username or password"
# Writing last_used_at on every call would turn each read into a write; a minute is precise enough.
_LAST_USED_PRECISION = timedelta(minutes=1)
# Administration and a citizen's "own things" belong to people who sign in, not to programs.
_NOT_FOR_KEYS = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.CITIZEN})


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    session_id: str
    user_id: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


def lockout_policy(auth: AuthSettings) -> LockoutPolicy:
    """The lockout the settings ask for (``ONEGRID_AUTH__LOCKOUT_FAILURES`` / ``_MINUTES``)."""
    return LockoutPolicy(auth.lockout_failures, timedelta(minutes=auth.lockout_minutes))


def _username_key(username: str) -> str:
    return normalize_username(username)[:64]


def _attempt(
    session: Session,
    username: str,
    password: str,
    clock: Clock,
    secret_key: str,
    ttl: timedelta,
    lockout: LockoutPolicy,
    hasher: PasswordHasher | None,
) -> IssuedToken | None:
    key = _username_key(username)
    now = clock.now()
    failures = session.scalars(
        select(LoginFailure.failed_at).where(
            LoginFailure.username_key == key, LoginFailure.failed_at > now - lockout.lookback
        )
    ).all()
    until = lockout.locked_until(failures, now)
    if until is not None:
        raise SignInLocked(
            f"too many failed sign-ins for this username; try again after "
            f"{until:%Y-%m-%d %H:%M:%S} UTC"
        )
    user = user_by_username(session, username)
    usable = user is not None and user.active
    verified = verify_password(user.password_hash if usable and user else None, password, hasher)
    if user is None or not verified.ok:
        stale = LoginFailure.failed_at <= now - lockout.lookback
        session.execute(delete(LoginFailure).where(stale))
        session.add(LoginFailure(username_key=key, failed_at=now))
        return None
    if verified.new_hash:
        user.password_hash = verified.new_hash
    user.last_sign_in_at = now
    session.execute(delete(LoginFailure).where(LoginFailure.username_key == key))
    session.execute(
        delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.expires_at <= now)
    )
    return open_session(session, user, clock, secret_key=secret_key, ttl=ttl)


def sign_in(
    db: Database,
    username: str,
    password: str,
    clock: Clock,
    *,
    secret_key: str,
    ttl: timedelta,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT,
    hasher: PasswordHasher | None = None,
) -> IssuedToken:
    """Check a username and password and open a session; raises ``NotAuthenticated`` with one
    message for every failure, or ``SignInLocked`` after too many failures."""
    key = _username_key(username)
    try:
        with db.unit_of_work() as session:
            issued = _attempt(session, username, password, clock, secret_key, ttl, lockout, hasher)
    except SignInLocked:
        log.warning("sign-in refused: locked", username=key)
        raise
    if issued is None:
        log.info("sign-in failed", username=key)
        raise NotAuthenticated(SIGN_IN_FAILED)
    log.info("signed in", username=key, user_id=issued.user_id, session=issued.session_id[:8])
    return issued


def open_session(
    session: Session, user: User, clock: Clock, *, secret_key: str, ttl: timedelta
) -> IssuedToken:
    """A new server-side session for ``user`` and the signed bearer token that points at it."""
    session_id = secrets.token_hex(16)
    token, expires = encode_token(user.id, session_id, clock.now(), ttl, secret_key)
    session.add(
        AuthSession(id=session_id, user_id=user.id, created_at=clock.now(), expires_at=expires)
    )
    session.flush()
    return IssuedToken(token, expires, session_id, user.id)


def principal_from_token(
    session: Session, token: str, clock: Clock, secret_key: str
) -> Principal | None:
    """The principal behind a bearer token; ``None`` if it is forged, expired, signed out, or
    its user is deactivated."""
    now = clock.now()
    claims = decode_token(token, secret_key, now)
    if claims is None:
        return None
    return principal_of_session(session, claims.token_id, claims.user_id, now)


def sign_out(session: Session, session_id: str, clock: Clock) -> bool:
    """End one session; ``False`` if it had already ended."""
    row = session.get(AuthSession, session_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    session.flush()
    return True


def purge_sessions(session: Session, clock: Clock) -> int:
    """Delete sessions that have expired or were signed out; returns how many."""
    now = clock.now()
    result = session.execute(
        delete(AuthSession).where(
            (AuthSession.expires_at <= now) | AuthSession.revoked_at.is_not(None)
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- API keys ---------------------------------------------------------------------------------


def create_api_key(
    session: Session,
    name: str,
    role: Role | str,
    scope: Scope | str,
    clock: Clock,
    *,
    by: Principal | None = None,
) -> tuple[ApiKey, str]:
    """A key for a system client; the raw key is returned here once and never stored."""
    label = check_text(name, "name", 100, required=True)
    grant = as_grant(role, scope)
    if grant.role in _NOT_FOR_KEYS:
        raise InvalidInput.one(
            "role", "not_for_keys", f"an API key cannot hold the {grant.role} role"
        )
    require_grantable(session, by, grant)
    for _ in range(5):
        new = generate_key()
        if api_key_by_prefix(session, new.prefix) is None:
            break
    else:  # pragma: no cover - five collisions of 40 random bits do not happen
        raise Conflict("could not find a free key prefix; try again")
    key = ApiKey(
        name=label,
        prefix=new.prefix,
        key_hash=new.digest,
        role=grant.role.value,
        scope_kind=grant.scope.kind.value,
        scope_code=grant.scope.code,
        created_at=clock.now(),
        created_by=by.actor if by else "console",
    )
    session.add(key)
    session.flush()
    return key, new.raw


def revoke_api_key(
    session: Session, prefix: str, clock: Clock, *, by: Principal | None = None
) -> ApiKey:
    key = api_key_by_prefix(session, prefix.strip())
    if key is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    require_grantable(session, by, grant_of(key.role, key.scope_kind, key.scope_code))
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        session.flush()
    return key


_API_KEYS: Table = ApiKey.__table__  # type: ignore[assignment]
_KEY_USED = (
    update(_API_KEYS)
    .where(_API_KEYS.c.id == bindparam("key_id"))
    .values(last_used_at=bindparam("now"))
)


def principal_from_api_key(session: Session, raw_key: str, clock: Clock) -> Principal | None:
    """The system client behind a raw key; ``None`` if it is malformed, unknown or revoked.
    Open311 calls this with the ``api_key`` parameter its clients send."""
    prefix = prefix_of(raw_key)
    if prefix is None:
        return None
    key = key_on_file(session, prefix)
    if key is None or key.revoked_at is not None or not matches(raw_key, key.key_hash):
        return None
    now = clock.now()
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_PRECISION:
        session.connection().execute(_KEY_USED, {"key_id": key.id, "now": now})
    return principal_of_key(key)
