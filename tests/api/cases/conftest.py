from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.signins import PASSWORD, Headers, sign_in
from tests.integration.cases.city import build_city

__all__ = ["PASSWORD", "Headers"]  # shared from tests.api.signins, imported from here by the tests

USERS: dict[str, Grant] = {
    "insp": Grant(Role.INSPECTOR, Scope.city()),
    "leader": Grant(Role.SHIFT_LEADER, Scope.city()),
    "leader_suburb": Grant(Role.SHIFT_LEADER, Scope.area("110112")),
    "disp": Grant(Role.DISPATCHER, Scope.city()),
    "sanit": Grant(Role.DEPARTMENT_HANDLER, Scope.department("sanitation")),
    "roads": Grant(Role.DEPARTMENT_HANDLER, Scope.department("roads")),
    "analyst": Grant(Role.ANALYST, Scope.city()),
    "citizen": Grant(Role.CITIZEN, Scope.city()),
    "hotline": Grant(Role.HOTLINE_OPERATOR, Scope.city()),
}


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        for name, grant in USERS.items():
            people.create_user(
                s,
                name,
                PASSWORD,
                clock,
                grants=[grant],
                department_codes=[grant.scope.code]
                if grant.role is Role.DEPARTMENT_HANDLER
                else [],
            )
    return db


@pytest.fixture
def as_(client: TestClient, city: Database) -> dict[str, Headers]:
    """Authorization headers per test user."""
    return {name: sign_in(client, name) for name in USERS}
