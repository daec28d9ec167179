"""The taxonomy saved from the admin page: checked like a file load, versioned, rolled back, and
never dropping a class that filed cases name; on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.admin.conftest import Headers
from tests.api.cases.test_cases_api import body

pytestmark = pytest.mark.postgres
VERSIONS = "/api/v1/taxonomy/versions"


def _in_use(client: TestClient, who: Headers) -> dict[str, Any]:
    current = client.get("/api/v1/taxonomy").json()
    resp = client.get(f"{VERSIONS}/{current['id']}", headers=who)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _save(client: TestClient, who: Headers, document: Any, base: int, note: str = "x") -> Any:
    return client.post(
        VERSIONS, json={"document": document, "note": note, "base_version": base}, headers=who
    )


def _errors(resp: Any) -> set[tuple[str, str, str | None]]:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return {(e["field"], e["rule"], e.get("record")) for e in resp.json()["errors"]}


def _class(document: dict[str, Any], code: str) -> dict[str, Any]:
    section = document["components" if code[0] == "C" else "events"]
    major = next(m for m in section if m["major"] == code[1:3])
    return next(c for c in major["classes"] if c["minor"] == code[3:])  # type: ignore[no-any-return]


def _category(client: TestClient, code: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/categories/{code}").json())


def test_a_saved_version_is_in_use_and_the_categories_follow_it(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    old = _in_use(client, as_["admin"])
    doc = copy.deepcopy(old["document"])
    _class(doc, "C0101")["name_en"] = "Drinking-water cover"
    _class(doc, "C0101")["keywords"]["en"].append("tap water lid")
    resp = _save(client, as_["admin"], doc, old["id"], note="clearer English name")
    assert resp.status_code == 201, resp.text
    saved = resp.json()
    assert saved["created"] and saved["in_use"] and saved["note"] == "clearer English name"
    assert saved["source"].startswith("user:")
    assert client.get("/api/v1/taxonomy").json()["id"] == saved["id"] != old["id"]
    cover = _category(client, "C0101")
    assert cover["name_en"] == "Drinking-water cover" and "tap water lid" in cover["keywords"]["en"]
    versions = client.get(VERSIONS, headers=as_["admin"]).json()
    assert [(v["id"], v["in_use"]) for v in versions] == [(saved["id"], True), (old["id"], False)]
    again = _save(client, as_["admin"], doc, saved["id"])
    assert again.status_code == 201 and not again.json()["created"]
    assert len(client.get(VERSIONS, headers=as_["admin"]).json()) == 2


def test_every_broken_rule_is_named_by_its_path_and_nothing_is_written(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    old = _in_use(client, as_["admin"])
    doc = copy.deepcopy(old["document"])
    doc["components"][0]["name_en"] = "Water things"  # a good change, not kept either
    doc["components"][0]["classes"][3]["minor"] = "4x"
    doc["components"][0]["classes"][1]["name_en"] = " "
    doc["events"][0]["classes"][0]["urgency"] = "asap"
    doc["events"][1]["classes"][1]["minor"] = doc["events"][1]["classes"][0]["minor"]
    errors = _errors(_save(client, as_["admin"], doc, old["id"]))
    assert ("components[0].classes[3].minor", "two_digits", "C01[3]") in errors
    assert ("components[0].classes[1].name_en", "required", "C0102") in errors
    assert ("events[0].classes[0].urgency", "known_urgency", "E0101") in errors
    assert ("events[1].classes[1].minor", "unique_code", "E0201") in errors
    assert ("note", "required", None) in _errors(
        _save(client, as_["admin"], old["document"], old["id"], note=" ")
    )
    assert len(client.get(VERSIONS, headers=as_["admin"]).json()) == 1
    assert _category(client, "C0101")["major_name_en"] == "Public utilities"


def test_only_a_city_admin_writes(client: TestClient, as_: dict[str, Headers]) -> None:
    old = _in_use(client, as_["admin"])
    for who in ("district", "insp"):
        assert _save(client, as_[who], old["document"], old["id"]).status_code == 403
        activate = client.post(f"{VERSIONS}/{old['id']}/activate", headers=as_[who])
        assert activate.status_code == 403
    assert client.get(VERSIONS, headers=as_["insp"]).status_code == 403
    assert client.post(VERSIONS, json={}).status_code == 401
    assert len(client.get(VERSIONS, headers=as_["admin"]).json()) == 1


def test_a_stale_base_version_is_a_conflict(client: TestClient, as_: dict[str, Headers]) -> None:
    old = _in_use(client, as_["admin"])
    doc = copy.deepcopy(old["document"])
    _class(doc, "C0101")["name_zh"] = "供水井盖"
    assert _save(client, as_["admin"], doc, old["id"]).status_code == 201
    _class(doc, "C0102")["name_zh"] = "排水井盖"
    stale = _save(client, as_["admin"], doc, old["id"])
    assert stale.status_code == 409 and stale.json()["current"]["version"] != old["id"]


def test_an_older_version_is_put_back_in_use(client: TestClient, as_: dict[str, Headers]) -> None:
    old = _in_use(client, as_["admin"])
    doc = copy.deepcopy(old["document"])
    _class(doc, "C0101")["name_en"] = "Drinking-water cover"
    new = _save(client, as_["admin"], doc, old["id"]).json()
    back = client.post(f"{VERSIONS}/{old['id']}/activate", headers=as_["admin"])
    assert back.status_code == 200, back.text
    assert back.json()["in_use"] and client.get("/api/v1/taxonomy").json()["id"] == old["id"]
    assert _category(client, "C0101")["name_en"] == "Water-supply manhole cover"
    listed = {
        v["id"]: (v["active"], v["in_use"])
        for v in client.get(VERSIONS, headers=as_["admin"]).json()
    }
    assert listed == {new["id"]: (False, False), old["id"]: (True, True)}
    forward = client.post(f"{VERSIONS}/{new['id']}/activate", headers=as_["admin"])
    assert forward.status_code == 200
    assert _category(client, "C0101")["name_en"] == "Drinking-water cover"
    assert client.post(f"{VERSIONS}/999/activate", headers=as_["admin"]).status_code == 404


def test_a_class_cases_were_filed_under_is_deactivated_not_removed(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    old = _in_use(client, as_["admin"])
    filed = client.post("/api/v1/cases", json=body(category_code="E0102"), headers=as_["insp"])
    assert filed.status_code == 201, filed.text
    doc = copy.deepcopy(old["document"])
    major = next(m for m in doc["events"] if m["major"] == "01")
    major["classes"] = [c for c in major["classes"] if c["minor"] != "02"]
    assert ("events", "class_in_use", "E0102") in _errors(
        _save(client, as_["admin"], doc, old["id"])
    )

    doc = copy.deepcopy(old["document"])
    _class(doc, "E0102")["active"] = False
    saved = _save(client, as_["admin"], doc, old["id"])
    assert saved.status_code == 201, saved.text
    listed = {c["code"] for c in client.get("/api/v1/categories").json()}
    assert "E0102" not in listed and "E0101" in listed
    everything = client.get("/api/v1/categories", params={"include_inactive": "true"}).json()
    assert {c["code"]: c["active"] for c in everything}["E0102"] is False
    assert _category(client, "E0102")["active"] is False  # the filed case's class still resolves
    services = {s["service_code"] for s in client.get("/open311/v2/services.json").json()}
    assert "E0102" not in services and "E0101" in services
    case = client.get(f"/api/v1/cases/{filed.json()['id']}", headers=as_["insp"])
    assert case.status_code == 200 and case.json()["category_code"] == "E0102"
    refused = client.post("/api/v1/cases", json=body(category_code="E0102"), headers=as_["insp"])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["rule"] == "active_category"


def test_a_version_lacking_a_filed_class_cannot_come_back(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    old = _in_use(client, as_["admin"])
    doc = copy.deepcopy(old["document"])
    major = next(m for m in doc["events"] if m["major"] == "01")
    major["classes"].append({"minor": "99", "name_zh": "新类", "name_en": "New class"})
    new = _save(client, as_["admin"], doc, old["id"]).json()
    filed = client.post("/api/v1/cases", json=body(category_code="E0199"), headers=as_["insp"])
    assert filed.status_code == 201, filed.text
    resp = client.post(f"{VERSIONS}/{old['id']}/activate", headers=as_["admin"])
    assert ("events", "class_in_use", "E0199") in _errors(resp)
    assert client.get("/api/v1/taxonomy").json()["id"] == new["id"]
