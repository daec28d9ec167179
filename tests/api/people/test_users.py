from __future__ import annotations

from fastapi.testclient import TestClient

from onegrid.people.domain import Grant, Role, Scope
from tests.api.people.conftest import PASSWORD, Login, MakeUser


def _new_user(**extra: object) -> dict[str, object]:
    return {"username": "li.na", "password": "a long enough password", **extra}


def test_admin_creates_lists_and_reads_users(client: TestClient, admin: dict[str, str]) -> None:
    client.post(
        "/api/v1/departments",
        headers=admin,
        json={"code": "SAN", "name_zh": "环卫", "area_code": "110105"},
    )
    resp = client.post(
        "/api/v1/users",
        headers=admin,
        json=_new_user(
            display_name="李娜",
            phone="13912345678",
            grants=[{"role": "department_handler", "scope": "dept:SAN"}],
            department_codes=["SAN"],
        ),
    )
    assert resp.status_code == 201, resp.text
    user = resp.json()
    assert user["grants"][0]["scope"] == "dept:SAN"
    assert user["department_codes"] == ["SAN"]
    assert "password" not in user and "password_hash" not in user
    listing = client.get("/api/v1/users", headers=admin).json()
    assert listing["total"] == 2
    assert [u["username"] for u in listing["items"]] == ["boss", "li.na"]
    assert client.get(f"/api/v1/users/{user['id']}", headers=admin).json()["phone"] == (
        "13912345678"
    )


def test_short_password_is_422_naming_field_and_rule(
    client: TestClient, admin: dict[str, str]
) -> None:
    resp = client.post("/api/v1/users", headers=admin, json=_new_user(password="short"))
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    error = resp.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("password", "min_length")
    assert "10 characters" in error["message"]
    assert client.get("/api/v1/users", headers=admin).json()["total"] == 1


def test_bad_grants_and_duplicates(client: TestClient, admin: dict[str, str]) -> None:
    resp = client.post(
        "/api/v1/users",
        headers=admin,
        json=_new_user(
            grants=[
                {"role": "inspector", "scope": "city"},
                {"role": "wizard", "scope": "city"},
                {"role": "district_admin", "scope": "city"},
            ],
        ),
    )
    assert resp.status_code == 422
    fields = {(e["field"], e["rule"]) for e in resp.json()["errors"]}
    assert fields == {("grants.1.role", "known_role"), ("grants.2.scope", "scope_kind_for_role")}
    assert client.post("/api/v1/users", headers=admin, json=_new_user()).status_code == 201
    dup = client.post("/api/v1/users", headers=admin, json=_new_user(username="LI.NA"))
    assert dup.status_code == 409
    extra = client.post("/api/v1/users", headers=admin, json=_new_user(is_admin=True))
    assert extra.status_code == 422


def test_403_names_the_action(client: TestClient, make_user: MakeUser, login: Login) -> None:
    make_user("ana", Grant(Role.ANALYST, Scope.city()))
    resp = client.get("/api/v1/users", headers=login("ana"))
    assert resp.status_code == 403
    body = resp.json()
    assert body["type"] == "https://onegrid.dev/problems/forbidden"
    assert "people.admin" in body["detail"] and "analyst" in body["detail"]


def test_patch_user_deactivates_and_regrants(
    client: TestClient, admin: dict[str, str], make_user: MakeUser, login: Login
) -> None:
    user_id = make_user("wang.li", Grant(Role.INSPECTOR, Scope.area("110105001")))
    their_auth = login("wang.li")
    resp = client.patch(
        f"/api/v1/users/{user_id}",
        headers=admin,
        json={"grants": [{"role": "dispatcher", "scope": "city"}]},
    )
    assert resp.status_code == 200
    assert [g["role"] for g in resp.json()["grants"]] == ["dispatcher"]
    resp = client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"active": False})
    assert resp.json()["active"] is False
    assert client.get("/api/v1/me", headers=their_auth).status_code == 401
    bad = client.patch(f"/api/v1/users/{user_id}", headers=admin, json={"email": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert client.patch("/api/v1/users/9999", headers=admin, json={}).status_code == 404


def test_district_admin_sees_and_manages_its_district_only(
    client: TestClient, make_user: MakeUser, login: Login
) -> None:
    make_user("admin105", Grant(Role.DISTRICT_ADMIN, Scope.area("110105")))
    mine = make_user("mine", Grant(Role.INSPECTOR, Scope.area("110105001")))
    other = make_user("other", Grant(Role.INSPECTOR, Scope.area("110101001")))
    auth = login("admin105")
    names = [u["username"] for u in client.get("/api/v1/users", headers=auth).json()["items"]]
    assert names == ["admin105", "mine"]
    assert client.get(f"/api/v1/users/{other}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/users/{mine}", headers=auth).status_code == 200
    resp = client.post(
        "/api/v1/users",
        headers=auth,
        json=_new_user(grants=[{"role": "city_admin", "scope": "city"}]),
    )
    assert resp.status_code == 403 and "people.admin" in resp.json()["detail"]
    resp = client.post(
        "/api/v1/users",
        headers=auth,
        json=_new_user(grants=[{"role": "inspector", "scope": "110105002"}]),
    )
    assert resp.status_code == 201


def test_password_change_own_and_by_admin(
    client: TestClient, admin: dict[str, str], make_user: MakeUser, login: Login
) -> None:
    user_id = make_user("wang.li")
    auth = login("wang.li")
    url = f"/api/v1/users/{user_id}/password"
    wrong = client.post(url, headers=auth, json={"password": "new password 123"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    ok = client.post(
        url, headers=auth, json={"password": "new password 123", "current_password": PASSWORD}
    )
    assert ok.status_code == 204
    assert client.get("/api/v1/me", headers=auth).status_code == 200  # this session stays
    assert client.post(url, headers=admin, json={"password": "reset by admin 1"}).status_code == (
        204
    )
    assert client.get("/api/v1/me", headers=auth).status_code == 401  # ended by the reset
    # Without people.admin, nobody sets another user's password.
    make_user("other")
    resp = client.post(
        f"/api/v1/users/{user_id}/password",
        headers=login("other"),
        json={"password": "hijacked password"},
    )
    assert resp.status_code == 403 and "people.admin" in resp.json()["detail"]
