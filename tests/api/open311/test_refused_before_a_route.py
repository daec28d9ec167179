"""A refusal made before any Open311 route runs (no such path, a wrong method, a form the parser
refuses) still comes as the spec's error list, in the format the path asks for."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.open311.conftest import BASE, errors_json, errors_xml


def test_an_unknown_path_is_an_open311_404_in_either_format(client: TestClient) -> None:
    [error] = errors_json(client.get(f"{BASE}/no-such-thing.json"), 404)
    assert error["code"] == 404 and error["description"]
    assert errors_xml(client.get(f"{BASE}/no-such-thing.xml"), 404)


def test_a_wrong_method_is_an_open311_400(client: TestClient) -> None:
    # OPEN311.md 1.8: 404 for what does not exist, 403 for the key, 400 for anything else.
    [error] = errors_json(client.delete(f"{BASE}/requests.json"), 400)
    assert error["code"] == 400
    assert errors_xml(client.delete("/georeport/v2/requests.xml"), 400)
