from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from onegrid.people.tokens import ALGORITHM, decode_token, encode_token

SECRET = "a-test-secret-of-some-length"
NOW = datetime(2026, 3, 2, 1, 0, 30, 500_000, tzinfo=UTC)
TTL = timedelta(minutes=30)


def test_round_trip() -> None:
    token, expires = encode_token(12, "abc123", NOW, TTL, SECRET)
    claims = decode_token(token, SECRET, NOW)
    assert claims is not None
    assert (claims.user_id, claims.token_id) == (12, "abc123")
    assert claims.expires_at == expires == NOW.replace(microsecond=0) + TTL


def test_expiry_follows_the_injected_clock() -> None:
    token, expires = encode_token(12, "abc123", NOW, TTL, SECRET)
    assert decode_token(token, SECRET, expires - timedelta(seconds=1)) is not None
    assert decode_token(token, SECRET, expires) is None


def test_other_secret_or_tampering_is_refused() -> None:
    token, _ = encode_token(12, "abc123", NOW, TTL, SECRET)
    assert decode_token(token, "another-secret-entirely", NOW) is None
    head, body, sig = token.split(".")
    assert decode_token(f"{head}.{body}.{sig[:-2]}xx", SECRET, NOW) is None
    assert decode_token("garbage", SECRET, NOW) is None


def test_unsigned_and_foreign_tokens_are_refused() -> None:
    claims = {"iss": "onegrid", "sub": "1", "jti": "x", "iat": 0, "exp": 2**40}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert decode_token(unsigned, SECRET, NOW) is None
    # Signed with the raw secret instead of the derived token key.
    raw = jwt.encode(claims, SECRET.encode() * 2, algorithm=ALGORITHM)
    assert decode_token(raw, SECRET, NOW) is None
