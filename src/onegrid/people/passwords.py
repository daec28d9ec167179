"""Password hashing with Argon2id (argon2-cffi), rehashed on sign-in when parameters change."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from onegrid.core.settings import AuthSettings

# argon2-cffi's defaults follow RFC 9106's second recommended option (Argon2id, 64 MiB, 3 passes).
_configured = PasswordHasher()
_pinned: PasswordHasher | None = None


def hasher_for(auth: AuthSettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=auth.argon2_time_cost,
        memory_cost=auth.argon2_memory_kib,
        parallelism=auth.argon2_parallelism,
    )


def configure_hashing(auth: AuthSettings) -> None:
    """Use the settings' Argon2id cost for new hashes (the app and the CLI call this at start-up;
    stored hashes are upgraded at their next sign-in)."""
    global _configured  # one process-wide setting, like a logging level
    _configured = hasher_for(auth)


def current_hasher() -> PasswordHasher:
    return _pinned or _configured


def use_hasher(hasher: PasswordHasher | None) -> PasswordHasher | None:
    """Pin the hasher over whatever the settings configure (``None`` unpins); returns the
    previous pin. Tests use it to run real Argon2id at a small cost even when an app they
    create configures the production cost."""
    global _pinned
    previous, _pinned = _pinned, hasher
    return previous


@dataclass(frozen=True)
class Verified:
    ok: bool
    # A fresh hash when the stored one used other parameters; store it in place of the old.
    new_hash: str | None = None


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return str((hasher or current_hasher()).hash(password))


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hash_password("onegrid: no such user", hasher)


def verify_password(
    stored_hash: str | None, password: str, hasher: PasswordHasher | None = None
) -> Verified:
    """Check a password. With no stored hash (unknown user) the check still costs the same
    time, so response times do not reveal which usernames exist; it never matches."""
    hasher = hasher or current_hasher()
    try:
        hasher.verify(stored_hash or _dummy_hash(hasher), password)
    except (VerificationError, InvalidHashError):
        return Verified(False)
    if not stored_hash:
        return Verified(False)
    if hasher.check_needs_rehash(stored_hash):
        return Verified(True, hash_password(password, hasher))
    return Verified(True)
