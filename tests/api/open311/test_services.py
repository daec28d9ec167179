"""Discovery, services and service definitions over HTTP, in XML and JSON, on both backends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.open311.conftest import (
    BASE,
    EVENT,
    Keys,
    errors_json,
    errors_xml,
    valid_json,
    xml_of,
)

pytestmark = pytest.mark.postgres
COMPONENT = "C0101"


@pytest.mark.parametrize("base", ["/open311/v2", "/georeport/v2"])
def test_discovery_in_both_formats_under_both_prefixes(
    client: TestClient, keys: Keys, base: str
) -> None:
    body = valid_json(client.get(f"{base}/discovery.json"), "discovery")
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith(base)
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert body["changeset"] == endpoint["changeset"] != "0"
    root = xml_of(client.get(f"{base}/discovery.xml"))
    assert root.tag == "discovery"
    assert [e.tag for e in root.find("endpoints") or []] == ["endpoint"]
    formats = root.find("endpoints/endpoint/formats")
    assert formats is not None and [f.tag for f in formats] == ["format", "format"]
    assert root.findtext("changeset") == body["changeset"]


def test_services_list_the_taxonomy_with_string_codes_and_real_booleans(
    client: TestClient, keys: Keys
) -> None:
    resp = client.get(f"{BASE}/services.json")
    services = valid_json(resp, "services")
    by_code = {s["service_code"]: s for s in services}
    assert EVENT in by_code and COMPONENT in by_code
    event = by_code[EVENT]
    assert event["metadata"] is True and event["type"] == "realtime"
    assert event["group"] and event["service_name"]
    assert '"metadata":true' in resp.text and '"metadata":"' not in resp.text
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    assert len(root) == len(services)
    first = root[0]
    assert first.findtext("metadata") == "true" and first.findtext("type") == "realtime"
    assert first.findtext("service_code") == services[0]["service_code"]


def test_services_when_no_taxonomy_is_loaded_are_an_empty_list(client: TestClient) -> None:
    assert valid_json(client.get(f"{BASE}/services.json"), "services") == []
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root) == 0


def test_definition_of_an_event_and_a_component_class(client: TestClient, keys: Keys) -> None:
    event = valid_json(client.get(f"{BASE}/services/{EVENT}.json"), "service_definition")
    assert event["service_code"] == EVENT
    nature = event["attributes"][0]
    assert nature["code"] == "nature" and nature["datatype"] == "singlevaluelist"
    assert nature["required"] is False and nature["variable"] is True
    assert {v["key"] for v in nature["values"]} == {
        "consultation",
        "help",
        "complaint",
        "report",
        "suggestion",
        "thanks",
    }
    kinds = {a["code"]: a["datatype"] for a in event["attributes"]}
    assert set(kinds.values()) == {
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    } - {"string"}  # the one string question is the component's plate
    orders = [a["order"] for a in event["attributes"]]
    assert orders == sorted(set(orders))
    component = valid_json(client.get(f"{BASE}/services/{COMPONENT}.json"), "service_definition")
    assert {a["datatype"] for a in component["attributes"]} >= {"string", "multivaluelist"}
    assert [a["order"] for a in component["attributes"]] == list(range(1, 7))
    codes = {a["code"]: a for a in component["attributes"]}
    assert codes["component_id"]["required"] is True
    assert codes["component_id"]["datatype"] == "string"
    root = xml_of(client.get(f"{BASE}/services/{COMPONENT}.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == COMPONENT
    attributes = root.find("attributes")
    assert attributes is not None and {a.tag for a in attributes} == {"attribute"}
    values = root.find("attributes/attribute/values")
    assert values is not None and {v.tag for v in values} == {"value"}
    assert values[0].findtext("key") and values[0].findtext("name")
    assert root.findtext("attributes/attribute/required") == "false"


def test_unknown_service_code_is_a_404_error_list(client: TestClient, keys: Keys) -> None:
    [error] = errors_json(client.get(f"{BASE}/services/X9999.json"), 404)
    assert error["code"] == 404 and "X9999" in error["description"]
    assert "X9999" in errors_xml(client.get(f"{BASE}/services/X9999.xml"), 404)[0]


def test_jurisdiction_is_the_city_code(client: TestClient, keys: Keys) -> None:
    ok = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "110000"})
    assert ok.status_code == 200 and valid_json(ok, "services")
    empty = client.get(f"{BASE}/services.json", params={"jurisdiction_id": ""})
    assert empty.status_code == 200
    [error] = errors_json(
        client.get(f"{BASE}/services.json", params={"jurisdiction_id": "sfgov.org"}), 404
    )
    assert "sfgov.org" in error["description"]
    errors_xml(client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "x"}), 404)
    errors_xml(client.get(f"{BASE}/discovery.xml", params={"jurisdiction_id": "x"}), 404)
    errors_xml(client.get(f"{BASE}/services/{EVENT}.xml", params={"jurisdiction_id": "x"}), 404)


def test_an_unknown_format_is_a_404_error_list_in_xml(client: TestClient, keys: Keys) -> None:
    assert "format" in errors_xml(client.get(f"{BASE}/services.html"), 404)[0]
    errors_xml(client.get(f"{BASE}/discovery.csv"), 404)


def test_openapi_documents_the_open311_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for base in ("/open311/v2", "/georeport/v2"):
        for path in (
            "/discovery.{fmt}",
            "/services.{fmt}",
            "/requests.{fmt}",
            "/requests/{service_request_id}.{fmt}",
            "/tokens/{token}.{fmt}",
            "/servicerequestupdates.{fmt}",
            "/media/{name}",
        ):
            assert base + path in paths
    assert "post" in paths["/open311/v2/requests.{fmt}"]
    assert set(paths["/open311/v2/servicerequestupdates.{fmt}"]) == {"get", "post"}
