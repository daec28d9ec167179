"""The tiny grid city with what the admin endpoints need: admins at two reaches, an inspector,
departments, the shipped taxonomy, and a sign-in helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from onegrid.assets import services as assets
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid import services as grid
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from onegrid.people.passwords import use_hasher
from tests.api.signins import PASSWORD, SignIns
from tests.integration.grid.boundary_files import START, build_tiny_city, feature

USERS: dict[str, list[Grant]] = {
    "cityadmin": [Grant(Role.CITY_ADMIN, Scope.city())],
    "dongcheng": [Grant(Role.DISTRICT_ADMIN, Scope.area("110101"))],
    "insp": [Grant(Role.INSPECTOR, Scope.area("110101"))],
    "analyst": [Grant(Role.ANALYST, Scope.city())],
}
DEPARTMENTS = ("sanitation", "roads", "110101ZF", "110102ZF")


@pytest.fixture
def cheap_hashing() -> Iterator[None]:
    previous = use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    use_hasher(previous)


@pytest.fixture
def admin_city(db: Database, clock: FixedClock, tmp_path: Path, cheap_hashing: None) -> Database:
    with db.unit_of_work() as s:
        build_tiny_city(s, clock, tmp_path)
        grid.generate_unit_grids(s, clock, valid_from=START)
        assets.ensure_taxonomy(s, clock)
        for code in DEPARTMENTS:
            people.create_department(s, code, f"部门{code}", clock)
        for name, grants in USERS.items():
            people.create_user(s, name, PASSWORD, clock, grants=grants)
    return db


@pytest.fixture
def as_(client: TestClient, admin_city: Database) -> SignIns:
    return SignIns(client)


def collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


__all__ = [
    "PASSWORD",
    "START",
    "SignIns",
    "admin_city",
    "as_",
    "cheap_hashing",
    "collection",
    "feature",
]
