from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.assets.city import build_city

PASSWORD = "correct horse battery"
Headers = dict[str, str]


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
    return db


@pytest.fixture
def sign_in(db: Database, clock: FixedClock, client: TestClient) -> Callable[..., Headers]:
    """A user with the given grants, signed in through the API."""

    def make(username: str, *grants: Grant) -> Headers:
        with db.unit_of_work() as s:
            people.create_user(s, username, PASSWORD, clock, grants=grants)
        resp = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    return make


@pytest.fixture
def admin(city: Database, sign_in: Callable[..., Headers]) -> Headers:
    return sign_in("boss", Grant(Role.CITY_ADMIN, Scope.city()))
