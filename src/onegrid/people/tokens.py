"""Bearer tokens: JWTs signed with HS256, checked against the injected clock.

The token is only a signed pointer to a server-side session (its ``jti``); the session row
decides whether it still counts, so signing out ends it at once (ADR 0004).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

ALGORITHM = "HS256"
ISSUER = "onegrid"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_id: str
    issued_at: datetime
    expires_at: datetime


def _key(secret_key: str) -> bytes:
    # A key of its own, derived from the one secret, so that a token signature can never be
    # replayed as another use of the secret (cookies, links), and always 256 bits long.
    return hashlib.sha256(b"onegrid.bearer-token\x00" + secret_key.encode()).digest()


def encode_token(
    user_id: int, token_id: str, now: datetime, ttl: timedelta, secret_key: str
) -> tuple[str, datetime]:
    issued = now.astimezone(UTC).replace(microsecond=0)
    expires = issued + ttl
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "jti": token_id,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, _key(secret_key), algorithm=ALGORITHM), expires


def decode_token(token: str, secret_key: str, now: datetime) -> TokenClaims | None:
    """The claims of a well-signed, unexpired token of ours; ``None`` for anything else."""
    claims = _verified(token, secret_key)
    if claims is None or now >= claims.expires_at:
        return None
    return claims


# Every staff request sends its token again, and checking the signature cost more than the
# session lookup after it. A token's claims never change, so each is checked once; expiry is
# still judged on every use (above) and the session row still decides whether it counts.
# Bounded: junk tokens only push others out.
@lru_cache(maxsize=4096)
def _verified(token: str, secret_key: str) -> TokenClaims | None:
    try:
        claims = jwt.decode(
            token,
            _key(secret_key),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # Expiry is checked against the injected clock, not the system time.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "require": ["iss", "sub", "jti", "iat", "exp"],
            },
        )
        return TokenClaims(
            int(claims["sub"]),
            str(claims["jti"]),
            datetime.fromtimestamp(int(claims["iat"]), UTC),
            datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
        return None


# --- Upload grants ----------------------------------------------------------------------------
# A reporter who may not otherwise attach files to their case (an anonymous citizen) gets, with
# the create reply, a grant to add photos to that one case for a short while: long enough to
# send them from a phone on a slow network, short enough that a leaked grant is soon worthless.
UPLOAD_GRANT_TTL = timedelta(minutes=30)
_UPLOAD_AUDIENCE = "onegrid.case-upload"


@dataclass(frozen=True)
class UploadGrant:
    """A well-signed grant to attach files to case ``case_id`` until ``expires_at`` (whether
    it is still in force, and for which case it is used, is the attachments' check)."""

    case_id: int
    expires_at: datetime


def _upload_key(secret_key: str) -> bytes:
    # Its own key, as bearer tokens have theirs: neither can pass for the other.
    return hashlib.sha256(b"onegrid.upload-grant\x00" + secret_key.encode()).digest()


def encode_upload_grant(
    case_id: int, now: datetime, secret_key: str, ttl: timedelta = UPLOAD_GRANT_TTL
) -> tuple[str, datetime]:
    expires = now.astimezone(UTC).replace(microsecond=0) + ttl
    claims = {
        "iss": ISSUER,
        "aud": _UPLOAD_AUDIENCE,
        "sub": str(case_id),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, _upload_key(secret_key), algorithm=ALGORITHM), expires


def decode_upload_grant(token: str, secret_key: str) -> UploadGrant | None:
    """The grant behind a token we signed, expired or not; ``None`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            _upload_key(secret_key),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=_UPLOAD_AUDIENCE,
            # Expiry is the caller's check, against the injected clock, so that it can say so.
            options={"verify_exp": False, "require": ["iss", "aud", "sub", "exp"]},
        )
        return UploadGrant(int(claims["sub"]), datetime.fromtimestamp(int(claims["exp"]), UTC))
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
        return None
