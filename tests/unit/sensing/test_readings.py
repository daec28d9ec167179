from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.readings import ReadingChecker, Reason

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC).timestamp()
AQ = Device.build(
    id="AQ-1",
    kind="air_micro",
    quantities={"pm2_5": "µg/m³", "co": "mg/m³", "temperature": "°C"},
    interval_s=60.0,
    lon=116.3,
    lat=39.9,
)
RETIRED = Device.build(
    id="OLD-1",
    kind="air_micro",
    quantities={"pm2_5": "µg/m³"},
    interval_s=60.0,
    lon=116.3,
    lat=39.9,
    active=False,
)
FAHRENHEIT = Device.build(
    id="T-F", kind="noise", quantities={"temperature": "°F"}, interval_s=60.0, lon=0, lat=0
)


@pytest.fixture
def checker() -> ReadingChecker:
    return ReadingChecker({d.id: d for d in (AQ, RETIRED, FAHRENHEIT)}, future_tolerance_s=300)


def check(checker: ReadingChecker, doc: object, topic: str | None = "AQ-1"):  # type: ignore[no-untyped-def]
    return checker.check(doc, topic_device=topic, received=NOW, now=NOW)


def test_a_device_message_gives_one_reading_per_value(checker: ReadingChecker) -> None:
    out = check(checker, {"ts": "2026-03-02T09:00:00+08:00", "values": {"pm2_5": 81, "co": 0.7}})
    assert out.rejections == []
    assert sorted((r.quantity, r.value, r.ts) for r in out.readings) == [
        ("co", 0.7, NOW),
        ("pm2_5", 81.0, NOW),
    ]


def test_units_are_converted_and_defaults_come_from_the_device(checker: ReadingChecker) -> None:
    out = check(
        checker,
        {
            "ts": NOW,
            "values": {"pm2_5": 0.081, "co": 700},
            "units": {"pm2_5": "mg/m3", "co": "ug/m3"},
        },
    )
    assert {r.quantity: r.value for r in out.readings} == pytest.approx({"pm2_5": 81.0, "co": 0.7})
    declared = check(checker, {"values": {"temperature": 212}}, topic="T-F")
    assert declared.readings[0].value == pytest.approx(100.0)
    assert declared.readings[0].ts == NOW  # no ts: the time of receipt


def test_a_gateway_batch_keeps_good_entries_beside_bad_ones(checker: ReadingChecker) -> None:
    doc = {
        "readings": [
            {"device": "AQ-1", "ts": NOW - 60, "values": {"pm2_5": 10}},
            {"device": "NOPE", "values": {"pm2_5": 10}},
            {"device": "AQ-1", "ts": NOW + 3600, "values": {"pm2_5": 10}},
            {"device": "AQ-1", "ts": NOW, "values": {"pm2_5": 11, "wind": 3}},
        ]
    }
    out = check(checker, doc, topic=None)
    assert [(r.quantity, r.value) for r in out.readings] == [("pm2_5", 10.0), ("pm2_5", 11.0)]
    assert [(r.reason, r.field) for r in out.rejections] == [
        (Reason.UNKNOWN_DEVICE, "readings[1].device"),
        (Reason.FUTURE_TIMESTAMP, "readings[2].ts"),
        (Reason.UNKNOWN_QUANTITY, "readings[3].values.wind"),
    ]


@pytest.mark.parametrize(
    ("doc", "topic", "reason", "field"),
    [
        ([1, 2], "AQ-1", Reason.MALFORMED, ""),
        ({"values": {}}, "AQ-1", Reason.MALFORMED, "values"),
        ({"values": [1]}, "AQ-1", Reason.MALFORMED, "values"),
        ({"readings": "x"}, None, Reason.MALFORMED, "readings"),
        ({"readings": [{"values": {"pm2_5": 1}}]}, None, Reason.MALFORMED, "readings[0].device"),
        ({"device": "AQ-2", "values": {"pm2_5": 1}}, "AQ-1", Reason.TOPIC_MISMATCH, "device"),
        ({"values": {"pm2_5": 1}}, "OLD-1", Reason.INACTIVE_DEVICE, "device"),
        ({"values": {"pm2_5": "high"}}, "AQ-1", Reason.BAD_VALUE, "values.pm2_5"),
        ({"values": {"pm2_5": None}}, "AQ-1", Reason.BAD_VALUE, "values.pm2_5"),
        (
            {"values": {"pm2_5": 1}, "units": {"pm2_5": "°C"}},
            "AQ-1",
            Reason.UNIT_MISMATCH,
            "units.pm2_5",
        ),
        ({"values": {"pm2_5": 1}, "units": "µg/m³"}, "AQ-1", Reason.MALFORMED, "units"),
        ({"ts": "yesterday", "values": {"pm2_5": 1}}, "AQ-1", Reason.BAD_TIMESTAMP, "ts"),
        ({"ts": "2026-03-02T01:00:00", "values": {"pm2_5": 1}}, "AQ-1", Reason.BAD_TIMESTAMP, "ts"),
        ({"ts": NOW * 1000, "values": {"pm2_5": 1}}, "AQ-1", Reason.BAD_TIMESTAMP, "ts"),
        ({"ts": True, "values": {"pm2_5": 1}}, "AQ-1", Reason.BAD_TIMESTAMP, "ts"),
        ({"ts": NOW + 301, "values": {"pm2_5": 1}}, "AQ-1", Reason.FUTURE_TIMESTAMP, "ts"),
        ({"values": {"pm2_5": 1}}, "GHOST", Reason.UNKNOWN_DEVICE, "device"),
    ],
)
def test_each_broken_rule_has_its_reason_and_place(
    checker: ReadingChecker, doc: object, topic: str | None, reason: Reason, field: str
) -> None:
    out = check(checker, doc, topic=topic)
    assert out.readings == []
    assert [(r.reason, r.field) for r in out.rejections] == [(reason, field)]
    assert out.rejections[0].detail


def test_the_future_tolerance_is_inclusive(checker: ReadingChecker) -> None:
    assert check(checker, {"ts": NOW + 300, "values": {"pm2_5": 1}}).rejections == []


def test_booleans_are_states(checker: ReadingChecker) -> None:
    cover = Device.build(
        id="C-1",
        kind="manhole_cover",
        quantities={"cover_open": "state"},
        interval_s=60,
        lon=0,
        lat=0,
    )
    own = ReadingChecker({"C-1": cover}, 300)
    out = own.check({"values": {"cover_open": True}}, topic_device="C-1", received=NOW, now=NOW)
    assert out.readings[0].value == 1.0
