from __future__ import annotations

import pytest
from argon2 import PasswordHasher

# Real Argon2id at a small cost, so that tests which are not about hashing stay quick.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def hasher() -> PasswordHasher:
    return CHEAP
