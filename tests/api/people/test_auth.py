from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from onegrid.api.auth import SESSION_COOKIE
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.people.domain import Grant, Role, Scope
from tests.api.people.conftest import PASSWORD, Login, MakeUser

PROBLEM = "application/problem+json"


def _is_problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def test_sign_in_and_me(
    client: TestClient, make_user: MakeUser, clock: FixedClock, settings: Settings
) -> None:
    make_user("Wang.Li", Grant(Role.DISPATCHER, Scope.area("110105")))
    resp = client.post("/api/v1/auth/token", data={"username": "wang.li", "password": PASSWORD})
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    expected = clock.now() + timedelta(minutes=settings.token_ttl_minutes)
    assert body["expires_at"].startswith(expected.strftime("%Y-%m-%dT%H:%M:%S"))
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    data = me.json()
    assert (data["kind"], data["name"], data["phone"]) == ("user", "Wang.Li", "13812345678")
    assert data["grants"] == [
        {"role": "dispatcher", "scope_kind": "area", "scope_code": "110105", "scope": "110105"}
    ]
    assert "case.dispatch" in data["actions"] and "people.admin" not in data["actions"]


def test_wrong_password_is_a_generic_401(client: TestClient, make_user: MakeUser) -> None:
    make_user("wang.li")
    wrong = client.post("/api/v1/auth/token", data={"username": "wang.li", "password": "x" * 12})
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "x" * 12})
    assert _is_problem(wrong, 401)["detail"] == _is_problem(unknown, 401)["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_lockout_over_http(client: TestClient, make_user: MakeUser) -> None:
    make_user("wang.li")
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "wang.li", "password": "x" * 12})
    resp = client.post("/api/v1/auth/token", data={"username": "wang.li", "password": PASSWORD})
    body = _is_problem(resp, 401)
    assert body["type"].endswith("/sign-in-locked")
    assert "try again after" in body["detail"]


def test_token_form_needs_both_fields(client: TestClient) -> None:
    body = _is_problem(client.post("/api/v1/auth/token", data={"username": "x"}), 422)
    assert body["errors"][0]["field"] == "password"


def test_no_credentials_is_401_problem_json(client: TestClient) -> None:
    body = _is_problem(client.get("/api/v1/me"), 401)
    assert body["type"] == "https://onegrid.dev/problems/unauthenticated"
    assert "sign in" in body["detail"]


def test_the_session_state_answers_anonymous_callers_without_an_error(
    client: TestClient, make_user: MakeUser, login: Login
) -> None:
    anonymous = client.get("/api/v1/auth/session")
    assert (anonymous.status_code, anonymous.json()) == (200, {"me": None})
    make_user("wang.li", Grant(Role.DISPATCHER, Scope.area("110105")))
    auth = login("wang.li")
    signed_in = client.get("/api/v1/auth/session", headers=auth)
    assert signed_in.status_code == 200
    assert signed_in.json()["me"] == client.get("/api/v1/me", headers=auth).json()
    client.post("/api/v1/auth/logout", headers=auth)
    _is_problem(client.get("/api/v1/auth/session", headers=auth), 401)  # revoked is not anonymous


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": "Basic dTpw"},
        {"X-API-Key": "og_0123456789_" + "x" * 43},
    ],
)
def test_bad_credentials_are_401(client: TestClient, headers: dict[str, str]) -> None:
    _is_problem(client.get("/api/v1/me", headers=headers), 401)


def test_logout_revokes_the_token(client: TestClient, make_user: MakeUser, login: Login) -> None:
    make_user("wang.li")
    auth = login("wang.li")
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    resp = client.post("/api/v1/auth/logout", headers=auth)
    assert resp.status_code == 204
    assert SESSION_COOKIE in resp.headers.get("set-cookie", "")  # the web cookie is cleared
    _is_problem(client.get("/api/v1/me", headers=auth), 401)


def test_token_expires(
    client: TestClient, make_user: MakeUser, login: Login, clock: FixedClock, settings: Settings
) -> None:
    make_user("wang.li")
    auth = login("wang.li")
    clock.advance(timedelta(minutes=settings.token_ttl_minutes))
    _is_problem(client.get("/api/v1/me", headers=auth), 401)


def test_session_cookie_works_and_a_stale_one_is_ignored_on_public_routes(
    client: TestClient, make_user: MakeUser, login: Login
) -> None:
    make_user("wang.li")
    token = login("wang.li")["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/v1/me").json()["name"] == "wang.li"
    client.post("/api/v1/auth/logout")
    assert client.get("/api/v1/access/actions").status_code == 200
    _is_problem(client.get("/api/v1/me"), 401)


def test_api_key_in_every_accepted_place(client: TestClient, api_key: str) -> None:
    for kwargs in (
        {"headers": {"X-API-Key": api_key}},
        {"headers": {"Authorization": f"ApiKey {api_key}"}},
        {"params": {"api_key": api_key}},
    ):
        resp = client.get("/api/v1/me", **kwargs)  # type: ignore[arg-type]
        assert resp.status_code == 200, kwargs
        data = resp.json()
        assert (data["kind"], data["name"]) == ("api_key", "open311")
        assert data["actions"] == ["case.create", "case.read_public", "open311.post"]
    # As a form field (how Open311 clients post).
    assert client.post("/api/v1/auth/logout", data={"api_key": api_key}).status_code == 204
    _is_problem(client.post("/api/v1/auth/logout", data={"other": "x"}), 401)


def test_permission_table_is_published(client: TestClient) -> None:
    table = client.get("/api/v1/access/actions").json()
    assert table["case.dispatch"] == [
        "city_admin",
        "dispatcher",
        "district_admin",
        "hotline_operator",
    ]


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/users/{user_id}/password",
        "/api/v1/departments",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation["summary"]
