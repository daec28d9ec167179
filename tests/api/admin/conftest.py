from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.signins import PASSWORD, Headers, sign_in
from tests.integration.cases.city import SUBURB, build_city

__all__ = ["Headers", "sign_in"]  # cheap hashing comes from tests/api/conftest.py (autouse)

USERS: dict[str, Grant] = {
    "admin": Grant(Role.CITY_ADMIN, Scope.city()),
    "district": Grant(Role.DISTRICT_ADMIN, Scope.area(SUBURB)),
    "insp": Grant(Role.INSPECTOR, Scope.city()),
}


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        for name, grant in USERS.items():
            people.create_user(s, name, PASSWORD, clock, grants=[grant])
    return db


@pytest.fixture
def as_(client: TestClient, city: Database) -> dict[str, Headers]:
    return {name: sign_in(client, name) for name in USERS}
