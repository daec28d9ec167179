"""The rule engine, kind by kind: episodes start and end where the rules say, and firing again
updates the same alert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onegrid.sensing.domain.devices import Device
from onegrid.sensing.domain.engine import ActiveAlert, AlertEvent, Change, Engine, SubjectKind
from onegrid.sensing.domain.rules import parse_rules

H = 3600.0


def device(
    device_id: str,
    kind: str = "air_quality",
    interval: float = H,
    district: str = "110101",
    **quantities: str,
) -> Device:
    return Device.build(
        id=device_id,
        kind=kind,
        quantities=quantities or {"pm2_5": "µg/m³"},
        interval_s=interval,
        lon=116.3,
        lat=39.9,
        areas={"district": district, "subdistrict": district + "001"},
    )


def engine(*specs: dict[str, Any]) -> Engine:
    return Engine(parse_rules(list(specs)))


PM = {"code": "pm", "kind": "threshold", "quantity": "pm2_5", "above": 75, "for": "2h"}


def feed(
    e: Engine, d: Device, quantity: str, series: Sequence[tuple[float, float]]
) -> list[tuple[float, Change]]:
    out = []
    for ts, value in series:
        out += [(ts, ev.change) for ev in e.observe(d, quantity, value, ts)]
    return out


def test_threshold_fires_once_held_for_the_duration_and_clears_at_or_below() -> None:
    e, d = engine(PM), device("AQ")
    # Hourly readings stand for their hour: two above the limit have held it for 2 h.
    events = feed(e, d, "pm2_5", [(0, 80), (H, 90), (2 * H, 100), (3 * H, 75), (4 * H, 60)])
    assert events == [(H, Change.RAISED), (2 * H, Change.UPDATED), (3 * H, Change.CLEARED)]


def test_the_episode_starts_at_the_first_reading_of_the_run() -> None:
    e, d = engine(PM), device("AQ")
    feed(e, d, "pm2_5", [(0, 50), (H, 80)])
    raised = e.observe(d, "pm2_5", 81, 2 * H)
    assert raised[0].started_at == H and raised[0].at == 2 * H and raised[0].value == 81


def test_a_single_hour_above_is_no_episode() -> None:
    e, d = engine(PM), device("AQ")
    assert feed(e, d, "pm2_5", [(0, 80), (H, 70), (2 * H, 80), (3 * H, 70)]) == []


def test_a_missing_reading_breaks_a_run_that_has_not_fired() -> None:
    e, d = engine(PM), device("AQ")
    # 02:00 is missing: 01:00 and 03:00 are not consecutive.
    assert feed(e, d, "pm2_5", [(H, 80), (3 * H, 80)]) == []
    assert feed(e, d, "pm2_5", [(4 * H, 80)]) == [(4 * H, Change.RAISED)]


def test_a_missing_reading_does_not_end_a_fired_episode() -> None:
    e, d = engine(PM), device("AQ")
    events = feed(e, d, "pm2_5", [(0, 80), (H, 80), (5 * H, 90), (6 * H, 40)])
    assert events == [(H, Change.RAISED), (5 * H, Change.UPDATED), (6 * H, Change.CLEARED)]


def test_hysteresis_clears_only_at_clear_at() -> None:
    e, d = engine({**PM, "for": 0, "clear_at": 60}), device("AQ")
    events = feed(e, d, "pm2_5", [(0, 80), (H, 70), (2 * H, 61), (3 * H, 60), (4 * H, 70)])
    assert events == [
        (0, Change.RAISED),
        (H, Change.UPDATED),
        (2 * H, Change.UPDATED),
        (3 * H, Change.CLEARED),
    ]


def test_below_thresholds() -> None:
    e = engine({"code": "cold", "kind": "threshold", "quantity": "temperature", "below": 0})
    d = device("T", temperature="°C", interval=60)
    assert feed(e, d, "temperature", [(0, 1), (60, -1), (120, 0)]) == [
        (60, Change.RAISED),
        (120, Change.CLEARED),
    ]


def test_old_and_repeated_readings_change_nothing() -> None:
    e, d = engine(PM), device("AQ")
    feed(e, d, "pm2_5", [(0, 80), (H, 80)])
    assert feed(e, d, "pm2_5", [(H, 10), (0, 10), (H / 2, 10)]) == []
    assert e.active_keys() == {"pm|AQ"}


def test_state_change_with_and_without_from() -> None:
    opened = {"code": "open", "kind": "state_change", "quantity": "cover_open", "to": 1}
    e, d = engine(opened), device("C", "manhole_cover", 300, cover_open="state")
    events = feed(e, d, "cover_open", [(0, 0), (300, 1), (600, 1), (900, 0), (1200, 1)])
    assert events == [
        (300, Change.RAISED),
        (600, Change.UPDATED),
        (900, Change.CLEARED),
        (1200, Change.RAISED),
    ]
    strict = engine({**opened, "from": 0})
    assert feed(strict, d, "cover_open", [(0, 1), (300, 0), (600, 1)]) == [(600, Change.RAISED)]


def test_rate_of_change_rise_within_the_window() -> None:
    rule = {
        "code": "rise",
        "kind": "rate_of_change",
        "quantity": "water_level",
        "rise": 0.10,
        "within": "30min",
    }
    e, d = engine(rule), device("W", "water_level", 300, water_level="m")
    series = [(0, 0.00), (600, 0.02), (1200, 0.05), (1800, 0.11), (2400, 0.13), (5400, 0.13)]
    assert feed(e, d, "water_level", series) == [
        (1800, Change.RAISED),
        (2400, Change.UPDATED),
        (5400, Change.CLEARED),
    ]
    slow = [(t, 0.05 * t / 1800) for t in range(6000, 20000, 600)]
    assert feed(e, d, "water_level", slow) == []


def test_rate_of_change_fall() -> None:
    rule = {
        "code": "drop",
        "kind": "rate_of_change",
        "quantity": "voltage",
        "fall": 1,
        "within": "10min",
    }
    e, d = engine(rule), device("V", "street_lamp", 60, voltage="V")
    assert feed(e, d, "voltage", [(0, 230), (60, 229.5), (120, 228.9)]) == [(120, Change.RAISED)]


def test_silence_is_found_by_tick_and_ends_with_a_reading() -> None:
    e = engine(PM, {"code": "silent", "kind": "silent", "intervals": 3})
    d = device("AQ")
    e.watch([d], since=0)
    assert e.tick(3 * H) == []
    raised = e.tick(3 * H + 1)
    assert [(ev.change, ev.subject, ev.started_at) for ev in raised] == [(Change.RAISED, "AQ", H)]
    assert e.tick(10 * H) == []  # still silent: nothing new
    back = e.observe(d, "pm2_5", 10, 11 * H)
    assert [(ev.change, ev.rule.code) for ev in back] == [(Change.CLEARED, "silent")]


def test_area_rules_combine_device_alerts() -> None:
    area = {"code": "district", "kind": "area", "of": "pm", "level": "district", "min_devices": 2}
    e = engine({**PM, "for": 0}, area)
    a, b = device("A"), device("B")
    other = device("C", district="110102")
    assert [ev.change for ev in e.observe(a, "pm2_5", 80, 0)] == [Change.RAISED]
    assert [ev.subject for ev in e.observe(other, "pm2_5", 80, 0)] == ["C"]
    second = e.observe(b, "pm2_5", 80, 0)
    assert [(ev.change, ev.subject_kind, ev.subject, ev.value) for ev in second] == [
        (Change.RAISED, SubjectKind.DEVICE, "B", 80),
        (Change.RAISED, SubjectKind.AREA, "110101", 2.0),
    ]
    cleared = e.observe(a, "pm2_5", 10, H)
    assert [(ev.change, ev.subject) for ev in cleared] == [
        (Change.CLEARED, "A"),
        (Change.CLEARED, "110101"),
    ]


def test_restored_alerts_are_updated_not_raised_again() -> None:
    e = engine(
        PM, {"code": "district", "kind": "area", "of": "pm", "level": "district", "min_devices": 1}
    )
    d = device("AQ")
    e.restore(
        [
            ActiveAlert("district", "110101", SubjectKind.AREA, 0.0),
            ActiveAlert("pm", "AQ", SubjectKind.DEVICE, 0.0),
            ActiveAlert("gone-rule", "AQ", SubjectKind.DEVICE, 0.0),
        ],
        {"AQ": d},
    )
    assert e.active_keys() == {"pm|AQ", "district|110101"}
    events: list[AlertEvent] = list(e.observe(d, "pm2_5", 90, 5 * H))
    assert [ev.change for ev in events] == [Change.UPDATED]
    cleared = e.observe(d, "pm2_5", 10, 6 * H)
    assert [(ev.change, ev.subject) for ev in cleared] == [
        (Change.CLEARED, "AQ"),
        (Change.CLEARED, "110101"),
    ]


def test_rules_apply_to_their_device_kinds_only() -> None:
    e = engine({**PM, "for": 0, "device_kinds": ["air_micro"]})
    assert e.observe(device("AQ", kind="air_quality"), "pm2_5", 99, 0) == ()
    assert len(e.observe(device("M", kind="air_micro"), "pm2_5", 99, 0)) == 1


def test_disabled_rules_do_nothing() -> None:
    e = engine({**PM, "for": 0, "enabled": False})
    assert e.observe(device("AQ"), "pm2_5", 99, 0) == ()


def test_a_changed_device_keeps_its_state() -> None:
    e, d = engine(PM), device("AQ")
    e.watch([d], since=0)
    feed(e, d, "pm2_5", [(0, 80)])
    moved = device("AQ", district="110102")
    e.watch([moved], since=0)
    raised = e.observe(moved, "pm2_5", 80, H)
    assert [(ev.change, ev.device) for ev in raised] == [(Change.RAISED, moved)]
