"""Upload grants: signed for one case, by this server's key, and never a bearer token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onegrid.people.tokens import (
    UPLOAD_GRANT_TTL,
    decode_token,
    decode_upload_grant,
    encode_token,
    encode_upload_grant,
)

KEY = "a-secret-key-for-tests-only"
NOW = datetime(2026, 3, 2, 1, 0, 30, 500, tzinfo=UTC)


def test_a_grant_names_its_case_and_ends_half_an_hour_on() -> None:
    token, expires = encode_upload_grant(42, NOW, KEY)
    grant = decode_upload_grant(token, KEY)
    assert grant is not None and grant.case_id == 42
    assert grant.expires_at == expires == NOW.replace(microsecond=0) + UPLOAD_GRANT_TTL
    # Expired grants still decode: the attachment's check says "expired", not "forged".
    old, _ = encode_upload_grant(42, NOW - timedelta(days=1), KEY)
    assert decode_upload_grant(old, KEY) is not None


def test_another_key_or_a_bearer_token_is_no_grant_and_a_grant_no_bearer_token() -> None:
    token, _ = encode_upload_grant(42, NOW, KEY)
    assert decode_upload_grant(token, KEY + "-other") is None
    assert decode_upload_grant("not.a.token", KEY) is None
    bearer, _ = encode_token(42, "session-1", NOW, timedelta(hours=1), KEY)
    assert decode_upload_grant(bearer, KEY) is None
    assert decode_token(token, KEY, NOW) is None
