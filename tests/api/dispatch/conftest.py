from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.signins import PASSWORD, Headers, SignIns
from tests.integration.dispatch.city import build_desk_city

__all__ = ["PASSWORD", "Headers"]  # shared from tests.api.signins, imported from here by the tests

USERS: dict[str, list[Grant]] = {
    "operator": [Grant(Role.HOTLINE_OPERATOR, Scope.city())],
    "desk": [
        Grant(r, Scope.city())
        for r in (Role.HOTLINE_OPERATOR, Role.REGISTRAR, Role.SHIFT_LEADER, Role.DISPATCHER)
    ],
    "analyst": [Grant(Role.ANALYST, Scope.city())],
    "sanit": [Grant(Role.DEPARTMENT_HANDLER, Scope.department("sanitation"))],
    "insp": [Grant(Role.INSPECTOR, Scope.city())],
}


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> Database:
    with db.unit_of_work() as s:
        build_desk_city(s, clock, tmp_path)
        for name, grants in USERS.items():
            depts = [g.scope.code for g in grants if g.role is Role.DEPARTMENT_HANDLER]
            people.create_user(s, name, PASSWORD, clock, grants=grants, department_codes=depts)
    return db


@pytest.fixture
def as_(client: TestClient, city: Database) -> dict[str, Headers]:
    return SignIns(client)
