from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.sensing.domain.devices import DeviceKind
from onegrid.sensing.ngsi import device_of, entity_id, matches, parse_q, to_entity
from onegrid.sensing.queries import DeviceView

WHEN = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
KIND = DeviceKind(
    "air_quality", "空气站", "Air station", {"pm2_5": "µg/m³"}, 3600, "AirQualityObserved"
)
DEVICE = DeviceView(
    "AQ-1",
    "air_quality",
    "Station 1",
    116.3,
    39.9,
    None,
    "110000",
    "110101",
    None,
    None,
    None,
    "1101010603000001",
    None,
    {"pm2_5": "µg/m³", "co": "mg/m³"},
    3600,
    True,
    "",
    WHEN,
    WHEN,
)
LATEST = {"pm2_5": (WHEN, 81.0), "co": (WHEN, 0.7)}


def test_normalized_entity() -> None:
    e = to_entity(DEVICE, KIND, LATEST)
    assert e["id"] == "urn:ngsi-ld:AirQualityObserved:AQ-1"
    assert e["type"] == "AirQualityObserved"
    assert e["pm25"] == {
        "type": "Property",
        "value": 81.0,
        "unitCode": "GQ",
        "observedAt": "2026-03-02T01:00:00.000Z",
    }
    assert e["co"]["unitCode"] == "GP"
    assert e["location"] == {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [116.3, 39.9]},
    }
    assert e["refComponent"] == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:Component:1101010603000001",
    }
    assert "@context" not in e


def test_key_values_attrs_and_context() -> None:
    e = to_entity(DEVICE, KIND, LATEST, attrs=["pm25"], key_values=True, with_context=True)
    assert e == {
        "id": "urn:ngsi-ld:AirQualityObserved:AQ-1",
        "type": "AirQualityObserved",
        "pm25": 81.0,
        "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
    }


def test_entity_ids_round_trip() -> None:
    assert device_of(entity_id("AirQualityObserved", "AQ:1")) == ("AirQualityObserved", "AQ:1")
    assert device_of("urn:other:x") is None


def test_queries() -> None:
    values = {"pm25": 81.0, "name": "Station 1"}
    assert matches(values, parse_q("pm25>75;pm25<=81"))
    assert not matches(values, parse_q("pm25>81"))
    assert matches(values, parse_q('name=="Station 1"'))
    assert not matches(values, parse_q("no2>1"))
    with pytest.raises(InvalidInput):
        parse_q("pm25 about 3")
