from __future__ import annotations

from typing import Any

import pytest

from onegrid.sensing.domain.gbfs import (
    GbfsProblem,
    parse_discovery,
    parse_station_information,
    parse_station_status,
    parse_vehicles,
)

V23_BIKES: dict[str, Any] = {
    "last_updated": 1700000000,
    "ttl": 60,
    "version": "2.3",
    "data": {
        "bikes": [
            {
                "bike_id": "b1",
                "lat": 40.7,
                "lon": -74.0,
                "is_reserved": False,
                "is_disabled": False,
                "vehicle_type_id": "classic",
            },
            {"bike_id": "b2", "station_id": "s1", "is_reserved": False, "is_disabled": True},
            {"bike_id": "b3", "lat": 95.0, "lon": -74.0},
            {"lat": 40.7, "lon": -74.0},
        ]
    },
}
V30_VEHICLES: dict[str, Any] = {
    "last_updated": "2024-09-01T12:00:00+00:00",
    "ttl": 0,
    "version": "3.0",
    "data": {
        "vehicles": [
            {
                "vehicle_id": "v1",
                "lat": 40.71,
                "lon": -74.01,
                "is_reserved": True,
                "is_disabled": False,
            },
            {"vehicle_id": "v2", "station_id": "s9", "is_reserved": False, "is_disabled": False},
        ]
    },
}


def test_v23_free_bike_status() -> None:
    parsed = parse_vehicles(V23_BIKES)
    assert parsed.meta.version == "2.3" and parsed.meta.last_updated == 1700000000
    assert [(v.id, v.lat, v.station_id, v.disabled, v.type_id) for v in parsed.items] == [
        ("b1", 40.7, None, False, "classic"),
        ("b2", None, "s1", True, None),
    ]
    assert parsed.problems == [
        "data.bikes[2]: lat 95.0 is out of range",
        "data.bikes[3]: bike_id is missing",
    ]


def test_v30_vehicle_status() -> None:
    parsed = parse_vehicles(V30_VEHICLES)
    assert parsed.meta.version == "3.0"
    assert parsed.meta.last_updated == 1725192000.0
    assert [(v.id, v.reserved, v.station_id) for v in parsed.items] == [
        ("v1", True, None),
        ("v2", False, "s9"),
    ]


def test_station_feeds_in_both_versions() -> None:
    info23 = {
        "last_updated": 1,
        "ttl": 0,
        "data": {
            "stations": [
                {"station_id": "s1", "name": "W 52 St", "lat": 40.76, "lon": -73.99, "capacity": 30}
            ]
        },
    }
    info30 = {
        "last_updated": "2024-09-01T12:00:00Z",
        "ttl": 0,
        "version": "3.0",
        "data": {
            "stations": [
                {
                    "station_id": "s1",
                    "name": [{"text": "W 52 St", "language": "en"}],
                    "lat": 40.76,
                    "lon": -73.99,
                }
            ]
        },
    }
    for doc in (info23, info30):
        (station,) = parse_station_information(doc).items
        assert (station.id, station.name, station.lat, station.lon) == (
            "s1",
            "W 52 St",
            40.76,
            -73.99,
        )
    status23 = {
        "last_updated": 1,
        "ttl": 0,
        "data": {
            "stations": [
                {
                    "station_id": "s1",
                    "num_bikes_available": 7,
                    "num_bikes_disabled": 2,
                    "num_docks_available": 21,
                }
            ]
        },
    }
    status30 = {
        "last_updated": "2024-09-01T12:00:00Z",
        "ttl": 0,
        "version": "3.0",
        "data": {
            "stations": [
                {"station_id": "s1", "num_vehicles_available": 7, "num_vehicles_disabled": 2}
            ]
        },
    }
    for doc in (status23, status30):
        (status,) = parse_station_status(doc).items
        assert (status.available, status.disabled) == (7, 2)
    bad = {
        "last_updated": 1,
        "data": {"stations": [{"station_id": "s1", "num_bikes_available": -3}]},
    }
    assert parse_station_status(bad).problems == [
        "data.stations[0]: num_bikes_available is not a count"
    ]


def test_discovery_in_both_versions() -> None:
    v23 = {
        "last_updated": 1,
        "ttl": 0,
        "version": "2.3",
        "data": {
            "en": {
                "feeds": [
                    {"name": "free_bike_status", "url": "https://x/fbs.json"},
                    {"name": "station_status", "url": "https://x/ss.json"},
                ]
            }
        },
    }
    v30 = {
        "last_updated": "2024-09-01T12:00:00Z",
        "ttl": 0,
        "version": "3.0",
        "data": {"feeds": [{"name": "vehicle_status", "url": "https://x/vs.json"}]},
    }
    assert parse_discovery(v23) == {
        "free_bike_status": "https://x/fbs.json",
        "station_status": "https://x/ss.json",
    }
    assert parse_discovery(v30) == {"vehicle_status": "https://x/vs.json"}


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"data": {"bikes": []}},
        {"last_updated": "not a time", "data": {"bikes": []}},
        {"last_updated": 1, "data": {"bikes": {}}},
    ],
)
def test_documents_that_are_not_feeds_are_refused(doc: Any) -> None:
    with pytest.raises(GbfsProblem):
        parse_vehicles(doc)
