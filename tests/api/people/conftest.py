from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import credentials, services
from onegrid.people.domain import Grant, Role, Scope
from onegrid.people.passwords import use_hasher

PASSWORD = "correct horse battery"
MakeUser = Callable[..., int]
Login = Callable[[str], dict[str, str]]


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    """Real Argon2id at a small cost: these tests are about HTTP, not about hashing."""
    previous = use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    use_hasher(previous)


@pytest.fixture
def make_user(db: Database, clock: FixedClock) -> MakeUser:
    def make(username: str, *grants: Grant, departments: tuple[str, ...] = ()) -> int:
        with db.unit_of_work() as s:
            return services.create_user(
                s,
                username,
                PASSWORD,
                clock,
                grants=grants,
                department_codes=departments,
                phone="13812345678",
            ).id

    return make


@pytest.fixture
def login(client: TestClient) -> Login:
    """Sign in through the API; returns the Authorization header."""

    def sign_in(username: str) -> dict[str, str]:
        resp = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    return sign_in


@pytest.fixture
def admin(make_user: MakeUser, login: Login) -> dict[str, str]:
    make_user("boss", Grant(Role.CITY_ADMIN, Scope.city()))
    return login("boss")


@pytest.fixture
def api_key(db: Database, clock: FixedClock) -> str:
    with db.unit_of_work() as s:
        _, raw = credentials.create_api_key(s, "open311", "open311_client", "city", clock)
    return raw
