from __future__ import annotations

from fastapi.testclient import TestClient

from onegrid.people.domain import Grant, Role, Scope
from tests.api.people.conftest import Login, MakeUser


def test_department_crud(client: TestClient, admin: dict[str, str]) -> None:
    resp = client.post(
        "/api/v1/departments",
        headers=admin,
        json={
            "code": "SAN",
            "name_zh": "环卫中心",
            "name_en": "Sanitation",
            "kind": "bureau",
            "area_code": "110105",
            "phone": "010-65091234",
        },
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["kind"] == "bureau"
    dup = client.post("/api/v1/departments", headers=admin, json={"code": "SAN", "name_zh": "x"})
    assert dup.status_code == 409
    bad = client.post(
        "/api/v1/departments",
        headers=admin,
        json={"code": "B", "name_zh": "乙", "kind": "ministry"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    patched = client.patch(
        "/api/v1/departments/SAN", headers=admin, json={"phone": "", "active": False}
    )
    assert (patched.json()["phone"], patched.json()["active"]) == (None, False)
    assert [d["code"] for d in client.get("/api/v1/departments", headers=admin).json()] == ["SAN"]
    assert client.get("/api/v1/departments?active_only=true", headers=admin).json() == []
    assert client.get("/api/v1/departments/NOPE", headers=admin).status_code == 404


def test_staff_read_departments_but_do_not_change_them(
    client: TestClient, admin: dict[str, str], make_user: MakeUser, login: Login
) -> None:
    client.post("/api/v1/departments", headers=admin, json={"code": "SAN", "name_zh": "环卫"})
    make_user("insp", Grant(Role.INSPECTOR, Scope.city()))
    auth = login("insp")
    assert client.get("/api/v1/departments/SAN", headers=auth).status_code == 200
    resp = client.patch("/api/v1/departments/SAN", headers=auth, json={"name_zh": "改"})
    assert resp.status_code == 403 and "people.admin" in resp.json()["detail"]
    assert client.get("/api/v1/departments").status_code == 401
