"""The demo city gives a sign-in to every person's role and a key to every system role, and the
same seed builds the same city: areas, unit grids and components, down to their IDs."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from onegrid.assets.models import ComponentRow
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.demo import build_demo_city
from onegrid.demo.city import COMPONENTS_PER_GRID
from onegrid.grid import queries as grid_queries
from onegrid.grid.models import AreaRow, UnitGridRow
from onegrid.people import credentials
from onegrid.people.domain import SYSTEM_ROLES, Role
from onegrid.people.models import ApiKey, RoleGrant, User
from onegrid.schema import migrate

_LIGHT = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def test_every_role_has_a_demo_user_or_key(db: Database, clock: FixedClock) -> None:
    report = build_demo_city(db, seed=11, clock=clock, components_per_grid=1)
    with db.reader() as s:
        held = s.execute(
            select(RoleGrant.role, User.username, RoleGrant.scope_kind, RoleGrant.scope_code)
            .join(User, User.id == RoleGrant.user_id)
            .order_by(User.username)
        ).all()
        keys = set(s.scalars(select(ApiKey.role)))
        districts = {a.code for a in grid_queries.list_areas(s, level="district")}
        subdistricts = {a.code for a in grid_queries.list_areas(s, level="subdistrict")}
        inspectors = {(u, c) for r, u, _, c in held if r == Role.INSPECTOR}
        grids_per_inspector = {
            u: grid_queries.grids_of_inspector(
                s, s.scalars(select(User.id).where(User.username == u)).one()
            )
            for u, _ in inspectors
        }
    # People sign in; system clients (Open311, sensor gateways) use keys, never a password.
    assert {r for r, *_ in held} == set(Role) - SYSTEM_ROLES
    assert keys == set(SYSTEM_ROLES)
    # Scoped roles are scoped to real areas: the district admin to a district, each
    # inspector to a subdistrict (one each), with that subdistrict's unit grids to patrol.
    (district_admin,) = [(k, c) for r, _, k, c in held if r == Role.DISTRICT_ADMIN]
    assert district_admin[0] == "area" and district_admin[1] in districts
    assert {c for _, c in inspectors} == subdistricts and len(inspectors) == len(subdistricts)
    assert all(len(grids) > 10 for grids in grids_per_inspector.values())

    first_of_role = {}
    for role, username, *_ in held:
        first_of_role.setdefault(role, username)
    for username in first_of_role.values():
        issued = credentials.sign_in(
            db,
            username,
            report.password,
            clock,
            secret_key=Settings().secret_key,
            ttl=timedelta(hours=1),
            hasher=_LIGHT,
        )
        assert issued.access_token, username


def _city(db: Database) -> dict[str, Any]:
    with db.reader() as s:
        return {
            "areas": s.execute(
                select(AreaRow.code, AreaRow.level, AreaRow.parent_code, AreaRow.geometry).order_by(
                    AreaRow.code
                )
            ).all(),
            "unit grids": s.execute(
                select(UnitGridRow.code, UnitGridRow.community_code).order_by(UnitGridRow.code)
            ).all(),
            "components": s.execute(
                select(
                    ComponentRow.id,
                    ComponentRow.class_code,
                    ComponentRow.unit_grid,
                    ComponentRow.lon,
                    ComponentRow.lat,
                    ComponentRow.data_source,
                ).order_by(ComponentRow.id)
            ).all(),
            "users": s.scalars(select(User.username).order_by(User.username)).all(),
        }


@pytest.mark.slow
def test_the_same_seed_builds_the_same_default_city(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    report = build_demo_city(db, seed=20261122, clock=clock)
    other = Database(make_engine(f"sqlite:///{(tmp_path / 'again.sqlite3').as_posix()}"))
    try:
        migrate(other.engine)
        again = build_demo_city(other, seed=20261122, clock=clock)
        first, second = _city(db), _city(other)
    finally:
        other.engine.dispose()

    assert report.counts == again.counts
    for part in ("areas", "unit grids", "components", "users"):
        assert first[part], part
        assert [tuple(r) for r in first[part]] == [tuple(r) for r in second[part]], part
    # The default city has tens of thousands of components: about COMPONENTS_PER_GRID in each
    # unit grid (a Poisson count per grid, so within a few standard deviations of the mean).
    components = len(first["components"])
    assert 10_000 <= components < 100_000
    assert components == report.counts["components"]
    scattered = sum(1 for c in first["components"] if c.data_source == "demo")
    expected = COMPONENTS_PER_GRID * len(first["unit grids"])
    assert abs(scattered - expected) < 5 * math.sqrt(expected), (scattered, expected)
