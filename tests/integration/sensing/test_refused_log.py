"""A refused message or entry is logged with its reason, field, device, topic and detail; each
reason at most ``burst`` times a window, the rest counted and logged once the window is over."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from structlog.testing import capture_logs

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.sensing.domain.readings import Reason, Rejection
from onegrid.sensing.ingest.pipeline import Message, Pipeline, _RateLimitedLog
from onegrid.sensing.settings import SensingSettings
from tests.integration.sensing.city import City

PREFIX = "onegrid/v1"


def refused(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"].startswith("sensing.rejected")]


def test_a_refused_entry_is_logged_with_what_and_where(
    db: Database, city: City, clock: FixedClock
) -> None:
    pipeline = Pipeline(db, clock, SensingSettings(rules_file=Path("unused")), rules=[])
    later = (clock.now() + timedelta(hours=1)).isoformat()
    entries = [
        {"device": "AQ-W1", "ts": clock.now().isoformat(), "values": {"pm2_5": 20.0}},
        {"device": "AQ-W1", "ts": later, "values": {"pm2_5": 21.0}},
        {"device": "NOPE-9", "values": {"pm2_5": 1.0}},
    ]
    topic = f"{PREFIX}/gateways/gw-7/readings"
    with capture_logs() as logs:
        outcome = pipeline.process(
            [Message("mqtt", topic, orjson.dumps({"readings": entries}), 0.0)]
        )
        pipeline.process([Message("mqtt", f"{PREFIX}/devices/AQ-W1/readings", b"{oops", 0.0)])
    assert outcome.accepted == 1
    found = refused(logs)
    assert [
        {k: e[k] for k in ("event", "log_level", "reason", "field", "device", "topic")}
        for e in found
    ] == [
        {
            "event": "sensing.rejected",
            "log_level": "warning",
            "reason": "future_timestamp",
            "field": "readings[1].ts",
            "device": "AQ-W1",
            "topic": topic,
        },
        {
            "event": "sensing.rejected",
            "log_level": "warning",
            "reason": "unknown_device",
            "field": "readings[2].device",
            "device": "NOPE-9",
            "topic": topic,
        },
        {
            "event": "sensing.rejected",
            "log_level": "warning",
            "reason": "malformed_json",
            "field": "",
            "device": "AQ-W1",  # from the device topic
            "topic": f"{PREFIX}/devices/AQ-W1/readings",
        },
    ]
    assert found[0]["detail"] == "ts is 3600 s ahead of the server clock (at most 300 s allowed)"
    assert found[1]["detail"] == "no device 'NOPE-9' is registered"
    assert found[2]["detail"]  # the JSON parser's own words


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_reason_is_logged_at_most_burst_times_a_window() -> None:
    ticks = Ticks()
    limited = _RateLimitedLog(burst=3, window=10.0, monotonic=ticks)
    bad = Rejection(Reason.BAD_VALUE, "not a number", "values.pm2_5", "AQ-W1")
    other = Rejection(Reason.UNKNOWN_DEVICE, "no device 'X'", "device", "X")
    with capture_logs() as logs:
        for _ in range(7):
            limited.rejected(bad, "t/1")
            ticks.now += 1.0
        limited.rejected(other, "t/2")  # another reason has a budget of its own
        ticks.now += 4.0  # 11 s after the first: the window is over
        limited.rejected(bad, "t/1")
    events = [(e["event"], e["reason"], e.get("count")) for e in refused(logs)]
    assert events == [
        ("sensing.rejected", "bad_value", None),
        ("sensing.rejected", "bad_value", None),
        ("sensing.rejected", "bad_value", None),
        ("sensing.rejected", "unknown_device", None),
        ("sensing.rejected.suppressed", "bad_value", 4),
        ("sensing.rejected", "bad_value", None),
    ]
