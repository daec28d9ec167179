from __future__ import annotations

from argon2 import PasswordHasher

from onegrid.people.passwords import hash_password, verify_password

# Real Argon2id with small costs: the behaviour under test does not depend on the cost.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CHEAPER = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)


def test_hash_is_argon2id_and_salted() -> None:
    a = hash_password("correct horse battery", CHEAP)
    b = hash_password("correct horse battery", CHEAP)
    assert a.startswith("$argon2id$")
    assert a != b
    assert "correct horse" not in a


def test_verify() -> None:
    stored = hash_password("correct horse battery", CHEAP)
    assert verify_password(stored, "correct horse battery", CHEAP).ok
    assert not verify_password(stored, "correct horse batterY", CHEAP).ok


def test_missing_or_garbage_hash_never_matches() -> None:
    assert not verify_password(None, "anything at all", CHEAP).ok
    assert not verify_password("not-a-hash", "anything at all", CHEAP).ok


def test_rehash_when_parameters_change() -> None:
    old = hash_password("correct horse battery", CHEAPER)
    result = verify_password(old, "correct horse battery", CHEAP)
    assert result.ok
    assert result.new_hash is not None
    assert "m=1024" in result.new_hash and "m=512" in old
    assert verify_password(result.new_hash, "correct horse battery", CHEAP).new_hash is None
