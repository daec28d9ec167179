from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.people import services as people
from onegrid.people.credentials import create_api_key
from onegrid.people.domain import Grant, Role, Scope
from tests.integration.sensing.city import City, add_devices, build_city

PASSWORD = "correct horse battery"
Headers = dict[str, str]


@pytest.fixture
def city(db: Database, clock: FixedClock, tmp_path: Path) -> City:
    with db.unit_of_work() as s:
        built = build_city(s, clock, tmp_path)
        add_devices(s, clock, built)
    return built


@pytest.fixture
def keys(db: Database, clock: FixedClock, city: City) -> dict[str, Headers]:
    """API keys: a city-wide gateway and one for the east district only."""
    out: dict[str, Headers] = {}
    with db.unit_of_work() as s:
        for name, scope in (("gateway", Scope.city()), ("east", Scope.area("110112"))):
            _key, raw = create_api_key(s, name, Role.SENSOR_GATEWAY, scope, clock)
            out[name] = {"X-API-Key": raw}
    return out


@pytest.fixture
def users(client: TestClient, db: Database, clock: FixedClock, city: City) -> dict[str, Headers]:
    grants = {
        "admin": Grant(Role.CITY_ADMIN, Scope.city()),
        "analyst": Grant(Role.ANALYST, Scope.city()),
        "citizen": Grant(Role.CITIZEN, Scope.city()),
    }
    with db.unit_of_work() as s:
        for name, grant in grants.items():
            people.create_user(s, name, PASSWORD, clock, grants=[grant])
    out: dict[str, Headers] = {}
    for name in grants:
        resp = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        out[name] = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    return out
