from __future__ import annotations

from onegrid.sensing.domain.bikes import (
    AreaCount,
    AreaWatch,
    BikeChange,
    FleetEvent,
    fleets_over_quota,
    judge,
    judge_fleets,
    parked_groups,
    shares,
)
from onegrid.sensing.domain.gbfs import StationInfo, StationStatus, Vehicle

GRACE = 1800.0


def test_parked_bikes_free_floating_and_at_stations() -> None:
    groups = parked_groups(
        "op",
        [
            Vehicle("a", 40.7, -74.0, None, False, False),
            Vehicle("b", 40.7, -74.0, None, True, True),  # reserved and disabled still park
            Vehicle("c", None, None, "s1", False, False),  # counted by the station
        ],
        [StationInfo("s1", "S", 40.8, -73.9), StationInfo("s2", "T", 40.9, -73.8)],
        [StationStatus("s1", 5, 1), StationStatus("s2", 0, 0), StationStatus("s3", 4, 0)],
    )
    assert [(g.lon, g.lat, g.count) for g in groups] == [
        (-74.0, 40.7, 1),
        (-74.0, 40.7, 1),
        (-73.9, 40.8, 6),
    ]


def count(total: dict[str, int], capacity: int = 10, area: str = "A") -> dict[str, AreaCount]:
    return {area: AreaCount(area, capacity, total)}


def test_an_area_over_capacity_alerts_only_after_the_grace_period() -> None:
    watches: dict[str, AreaWatch] = {}
    watches, events = judge(count({"op": 12}), watches, now=0, grace_s=GRACE, quotas={})
    assert events == [] and watches["A"].over_since == 0
    watches, events = judge(count({"op": 12}), watches, now=GRACE - 1, grace_s=GRACE, quotas={})
    assert events == []
    watches, events = judge(count({"op": 13}), watches, now=GRACE, grace_s=GRACE, quotas={})
    assert [(e.change, e.operator, e.count, e.capacity, e.over_since) for e in events] == [
        (BikeChange.RAISED, "op", 13, 10, 0)
    ]
    watches, events = judge(count({"op": 14}), watches, now=GRACE + 60, grace_s=GRACE, quotas={})
    assert [e.change for e in events] == [BikeChange.UPDATED]
    watches, events = judge(count({"op": 10}), watches, now=GRACE + 120, grace_s=GRACE, quotas={})
    assert [e.change for e in events] == [BikeChange.CLEARED]
    assert watches == {}


def test_a_dip_below_capacity_restarts_the_grace_period() -> None:
    watches, _ = judge(count({"op": 12}), {}, now=0, grace_s=GRACE, quotas={})
    watches, _ = judge(count({"op": 9}), watches, now=600, grace_s=GRACE, quotas={})
    watches, events = judge(count({"op": 12}), watches, now=1200, grace_s=GRACE, quotas={})
    assert watches["A"].over_since == 1200
    _, events = judge(count({"op": 12}), watches, now=1200 + GRACE - 1, grace_s=GRACE, quotas={})
    assert events == []


def test_only_operators_above_their_share_are_alerted() -> None:
    quotas = {"big": 3000, "small": 1000}
    assert shares(20, ["big", "small"], quotas) == {"big": 15.0, "small": 5.0}
    assert shares(20, ["big", "small"], {}) == {"big": 10.0, "small": 10.0}
    _, events = judge(count({"big": 14, "small": 8}, 20), {}, now=0, grace_s=0, quotas=quotas)
    assert [(e.change, e.operator, e.share) for e in events] == [(BikeChange.RAISED, "small", 5.0)]


def test_an_emptied_area_clears_its_alerts() -> None:
    watches, events = judge(count({"op": 12}), {}, now=0, grace_s=0, quotas={})
    assert [e.change for e in events] == [BikeChange.RAISED]
    watches, events = judge({}, watches, now=60, grace_s=0, quotas={})
    assert [(e.change, e.count) for e in events] == [(BikeChange.CLEARED, 0)]
    assert watches == {}


def test_fleets_over_quota() -> None:
    assert fleets_over_quota({"a": 101, "b": 50, "c": 10}, {"a": 100, "b": 50}) == [("a", 101, 100)]


def test_judge_fleets_raises_updates_and_clears_one_alert_per_operator() -> None:
    quotas = {"a": 100, "b": 50, "c": 0}
    first = judge_fleets({"a": 101, "b": 50, "c": 1}, quotas, alerted=())
    assert first == [
        FleetEvent(BikeChange.RAISED, "a", 101, 100),
        FleetEvent(BikeChange.RAISED, "c", 1, 0),  # quota 0: no bike allowed
    ]
    again = judge_fleets({"a": 120, "b": 51, "c": 0}, quotas, alerted={"a", "c"})
    assert again == [
        FleetEvent(BikeChange.UPDATED, "a", 120, 100),
        FleetEvent(BikeChange.RAISED, "b", 51, 50),
        FleetEvent(BikeChange.CLEARED, "c", 0, 0),
    ]
    # a's feed was not read: its alert stays; b lost its quota: its alert clears.
    later = judge_fleets({"b": 60}, {"a": 100}, alerted={"a", "b"})
    assert later == [FleetEvent(BikeChange.CLEARED, "b", 60, None)]
