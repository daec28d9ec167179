"""What every API test shares: password hashing cheap enough for the many sign-ins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from onegrid.people.passwords import use_hasher


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    previous = use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    use_hasher(previous)
