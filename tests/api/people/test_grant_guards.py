"""Grants that would lock the city out, or name no place: nobody changes their own grants, the
last active city_admin keeps theirs (through the API and the console alike), and an area grant
names an area or unit grid of the city once one is loaded. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.grid.models import UnitGridRow
from onegrid.people.domain import Grant, Role, Scope
from tests.api.people.conftest import Login, MakeUser
from tests.integration.cases.city import CORE, CORE_SUB, build_city

pytestmark = pytest.mark.postgres
CITY_ADMIN = {"role": "city_admin", "scope": "city"}


def _problems(resp: httpx.Response) -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in resp.json()["errors"]}


def test_the_only_city_admin_cannot_replace_their_own_grants(
    client: TestClient, make_user: MakeUser, login: Login
) -> None:
    boss_id = make_user("boss", Grant(Role.CITY_ADMIN, Scope.city()))
    boss = login("boss")
    resp = client.patch(
        f"/api/v1/users/{boss_id}",
        headers=boss,
        json={"grants": [{"role": "dispatcher", "scope": "110105"}]},
    )
    assert resp.status_code == 422, resp.text
    assert _problems(resp) == {("grants", "not_self"), ("grants", "last_city_admin")}
    user = client.get(f"/api/v1/users/{boss_id}", headers=boss).json()
    assert [(g["role"], g["scope"]) for g in user["grants"]] == [("city_admin", "city")]
    # The whole form sent back with the grants as they are still saves the rest.
    same = client.patch(
        f"/api/v1/users/{boss_id}",
        headers=boss,
        json={"display_name": "老板", "grants": [CITY_ADMIN]},
    )
    assert same.status_code == 200, same.text
    assert same.json()["display_name"] == "老板"


def test_another_admin_changes_your_grants_but_not_you(
    client: TestClient, make_user: MakeUser, login: Login
) -> None:
    boss_id = make_user("boss", Grant(Role.CITY_ADMIN, Scope.city()))
    make_user("deputy", Grant(Role.CITY_ADMIN, Scope.city()))
    boss, deputy = login("boss"), login("deputy")
    mine = client.patch(
        f"/api/v1/users/{boss_id}", headers=boss, json={"grants": [CITY_ADMIN, _analyst()]}
    )
    assert mine.status_code == 422 and _problems(mine) == {("grants", "not_self")}
    demoted = client.patch(
        f"/api/v1/users/{boss_id}",
        headers=deputy,
        json={"grants": [{"role": "dispatcher", "scope": "city"}]},
    )
    assert demoted.status_code == 200, demoted.text
    assert [g["role"] for g in demoted.json()["grants"]] == ["dispatcher"]


def _analyst() -> dict[str, str]:
    return {"role": "analyst", "scope": "city"}


def test_the_last_active_city_admin_is_kept_when_others_are_inactive(
    client: TestClient, make_user: MakeUser, login: Login
) -> None:
    boss_id = make_user("boss", Grant(Role.CITY_ADMIN, Scope.city()))
    deputy_id = make_user("deputy", Grant(Role.CITY_ADMIN, Scope.city()))
    deputy = login("deputy")
    off = client.patch(f"/api/v1/users/{boss_id}", headers=deputy, json={"active": False})
    assert off.status_code == 200, off.text
    # deputy is now the only active city_admin: another may not demote them, nor they themselves.
    resp = client.patch(f"/api/v1/users/{deputy_id}", headers=deputy, json={"active": False})
    assert _problems(resp) == {("active", "not_self"), ("active", "last_city_admin")}


def _grid_city(db: Database, clock: FixedClock, tmp_path: Path) -> str:
    """Loads a small city's areas and unit grids; returns one unit grid's code."""
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path)
        code = s.scalar(select(UnitGridRow.code).limit(1))
    assert code is not None
    return code


def test_an_area_grant_names_an_area_or_unit_grid_of_the_city(
    client: TestClient,
    admin: dict[str, str],
    db: Database,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    def create(username: str, *scopes: str) -> httpx.Response:
        grants = [{"role": "inspector", "scope": s} for s in scopes]
        body = {"username": username, "password": "correct horse battery", "grants": grants}
        return client.post("/api/v1/users", headers=admin, json=body)

    # Before any area is imported there is nothing to check against: people may come first.
    early = create("early", "110105")
    assert early.status_code == 201, early.text
    grid = _grid_city(db, clock, tmp_path)
    unknown = create("insp1", "110105")
    assert unknown.status_code == 422
    assert _problems(unknown) == {("grants", "known_area")}
    assert "110105" in unknown.json()["errors"][0]["message"]
    known = create("insp2", CORE, CORE_SUB, grid)
    assert known.status_code == 201, known.text
    user_id = known.json()["id"]
    patched = client.patch(
        f"/api/v1/users/{user_id}",
        headers=admin,
        json={"grants": [{"role": "dispatcher", "scope": "110105"}]},
    )
    assert patched.status_code == 422 and _problems(patched) == {("grants", "known_area")}
    # A grant already held is not checked again: the early user's record still saves.
    early_id = early.json()["id"]
    kept = client.patch(
        f"/api/v1/users/{early_id}",
        headers=admin,
        json={"display_name": "早", "grants": [{"role": "inspector", "scope": "110105"}]},
    )
    assert kept.status_code == 200, kept.text


runner = CliRunner()


def test_the_console_keeps_the_last_city_admin_and_checks_areas(
    db: Database,
    clock: FixedClock,
    tmp_path: Path,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    make_user("boss", Grant(Role.CITY_ADMIN, Scope.city()))
    for args in (
        ["user", "revoke", "boss", "--role", "city_admin"],
        ["user", "deactivate", "boss"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "last_city_admin" in result.output
    _grid_city(db, clock, tmp_path)
    result = runner.invoke(
        app, ["user", "grant", "boss", "--role", "inspector", "--scope", "110105"]
    )
    assert result.exit_code == 1 and "known_area" in result.output, result.output
    make_user("deputy", Grant(Role.CITY_ADMIN, Scope.city()))
    result = runner.invoke(app, ["user", "revoke", "boss", "--role", "city_admin"])
    assert result.exit_code == 0, result.output
