"""Bearer tokens: JWTs signed with HS256, checked against the injected clock.

The token is only a signed pointer to a server-side session (its ``jti``); the session row
decides whether it still counts, so signing out ends it at once (ADR 0004).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
    try:
        claims = jwt.decode(
            token,
            _key(secret_key),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            # Expiry is checked below against the injected clock, not the system time.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "require": ["iss", "sub", "jti", "iat", "exp"],
            },
        )
        user_id = int(claims["sub"])
        token_id = str(claims["jti"])
        issued = datetime.fromtimestamp(int(claims["iat"]), UTC)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
        return None
    if now >= expires:
        return None
    return TokenClaims(user_id, token_id, issued, expires)
