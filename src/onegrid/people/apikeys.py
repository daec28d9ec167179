"""API keys for system clients: ``og_<prefix>_<secret>``, stored as a SHA-256 hash.

The prefix is public and finds the row; the secret carries 256 random bits, so a fast hash is
safe where a password would need Argon2 (ADR 0004).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_MARK = "og"
_PREFIX_BYTES = 5  # 10 hex characters: enough that random prefixes almost never collide
_SECRET_BYTES = 32
_FORMAT = re.compile(r"^og_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    prefix: str
    raw: str
    digest: str


def digest_of(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_key() -> NewKey:
    prefix = secrets.token_hex(_PREFIX_BYTES)
    raw = f"{KEY_MARK}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return NewKey(prefix, raw, digest_of(raw))


def prefix_of(raw_key: str) -> str | None:
    """The public prefix of a well-formed key, or ``None``."""
    match = _FORMAT.match(raw_key.strip())
    return match.group(1) if match else None


def matches(raw_key: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest_of(raw_key.strip()), stored_digest)
