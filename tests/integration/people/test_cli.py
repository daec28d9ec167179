from __future__ import annotations

import pytest
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.core.clock import SystemClock
from onegrid.db.session import Database
from onegrid.people import credentials, queries
from onegrid.people.domain import Grant, Role, Scope

runner = CliRunner()


@pytest.fixture(autouse=True)
def _database_url(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_departments_users_and_grants(db: Database) -> None:
    _run(
        "department",
        "create",
        "SAN",
        "--name-zh",
        "环卫中心",
        "--kind",
        "bureau",
        "--area",
        "110105",
    )
    assert "SAN" in _run("department", "list")
    _run(
        "user",
        "create",
        "wang.li",
        "--role",
        "department_handler",
        "--department",
        "SAN",
        "--password",
        "correct horse battery",
        "--phone",
        "13812345678",
    )
    _run("user", "grant", "WANG.LI", "--role", "inspector", "--scope", "110105001")
    with db.reader() as s:
        user = queries.get_user_by_username(s, "wang.li")
        assert set(queries.grants_of(user)) == {
            Grant(Role.DEPARTMENT_HANDLER, Scope.department("SAN")),
            Grant(Role.INSPECTOR, Scope.area("110105001")),
        }
        assert user.department_codes == ["SAN"]
    _run("user", "revoke", "wang.li", "--role", "inspector", "--scope", "110105001")
    _run("user", "deactivate", "wang.li")
    with db.reader() as s:
        user = queries.get_user_by_username(s, "wang.li")
        assert not user.active and len(user.grants) == 1


def test_bad_input_exits_1_naming_the_field() -> None:
    result = runner.invoke(
        app, ["user", "create", "zhao", "--role", "inspector", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "password" in result.output and "min_length" in result.output
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "zhao",
            "--role",
            "district_admin",
            "--password",
            "long enough password",
        ],
    )
    assert result.exit_code == 1 and "--scope" in result.output


def test_api_key_printed_once_and_revocable(db: Database) -> None:
    out = _run("apikey", "create", "open311 gateway", "--role", "open311_client")
    raw = next(line for line in out.splitlines() if line.startswith("og_"))
    with db.unit_of_work() as s:
        principal = credentials.principal_from_api_key(s, raw, SystemClock())
        assert principal is not None and principal.name == "open311 gateway"
        prefix = queries.list_api_keys(s)[0].prefix
    listing = _run("apikey", "list")
    assert raw not in listing
    _run("apikey", "revoke", prefix)
    with db.unit_of_work() as s:
        assert credentials.principal_from_api_key(s, raw, SystemClock()) is None
