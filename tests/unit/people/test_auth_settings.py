"""The sign-in lockout and the Argon2id cost come from the settings tree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from onegrid.core.settings import AuthSettings, SettingsError, load_settings
from onegrid.people import passwords
from onegrid.people.credentials import lockout_policy


def test_defaults_are_rfc_9106_and_five_failures_in_fifteen_minutes() -> None:
    auth = load_settings().auth
    assert (auth.lockout_failures, auth.lockout_minutes) == (5, 15)
    hasher = passwords.hasher_for(auth)
    reference = PasswordHasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        reference.time_cost,
        reference.memory_cost,
        reference.parallelism,
    )


def test_read_from_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_AUTH__LOCKOUT_FAILURES", "3")
    monkeypatch.setenv("ONEGRID_AUTH__LOCKOUT_MINUTES", "30")
    monkeypatch.setenv("ONEGRID_AUTH__ARGON2_TIME_COST", "2")
    monkeypatch.setenv("ONEGRID_AUTH__ARGON2_MEMORY_KIB", "2048")
    monkeypatch.setenv("ONEGRID_AUTH__ARGON2_PARALLELISM", "1")
    auth = load_settings().auth
    policy = lockout_policy(auth)
    assert (policy.max_failures, policy.window) == (3, timedelta(minutes=30))
    stored = passwords.hash_password("correct horse battery", passwords.hasher_for(auth))
    assert stored.startswith("$argon2id$v=19$m=2048,t=2,p=1$")


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("ONEGRID_AUTH__LOCKOUT_FAILURES", "0", "greater than or equal to 1"),
        ("ONEGRID_AUTH__LOCKOUT_MINUTES", "many", "valid integer"),
        ("ONEGRID_AUTH__ARGON2_MEMORY_KIB", "64", "greater than or equal to 1024"),
        ("ONEGRID_AUTH__ARGON2_TIME_COST", "99", "less than or equal to 20"),
        ("ONEGRID_AUTH__ARGON2_LANES", "2", "Extra inputs are not permitted"),
    ],
)
def test_a_wrong_value_is_named_with_its_rule(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, rule: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    line = next(ln for ln in str(exc.value).splitlines() if variable in ln)
    assert rule in line and repr(value) in line


def test_configured_cost_applies_unless_a_hasher_is_pinned() -> None:
    cheap = AuthSettings(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
    pinned = PasswordHasher(time_cost=1, memory_cost=1536, parallelism=1)
    previous = passwords.use_hasher(None)
    try:
        passwords.configure_hashing(cheap)
        assert "$m=1024,t=1,p=1$" in passwords.hash_password("correct horse battery")
        passwords.use_hasher(pinned)
        assert "$m=1536,t=1,p=1$" in passwords.hash_password("correct horse battery")
    finally:
        passwords.configure_hashing(AuthSettings())
        passwords.use_hasher(previous)
