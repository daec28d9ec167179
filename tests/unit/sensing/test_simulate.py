from __future__ import annotations

import orjson

from onegrid.sensing.domain.devices import Device
from onegrid.sensing.simulate import Simulator, payload, topic

START = 1_780_000_000.0  # 2026-05-28


def device(id: str, kind: str, quantities: dict[str, str], interval: float) -> Device:
    return Device.build(
        id=id,
        kind=kind,
        quantities=quantities,
        interval_s=interval,
        lon=116.3,
        lat=39.9,
        areas={"district": "110101"},
    )


STATION = device("AQ-1", "air_quality", {"pm2_5": "µg/m³", "pm10": "µg/m³", "co": "mg/m³"}, 3600)
COVER = device("MC-1", "manhole_cover", {"tilt": "deg", "cover_open": "state"}, 300)
LAMP = device("SL-1", "street_lamp", {"lamp_on": "state", "power": "W"}, 600)


def readings(seed: int, share: float = 0.25) -> list[tuple[float, str, dict[str, float]]]:
    sim = Simulator([STATION, COVER, LAMP], start=START, seed=seed, episode_share=share)
    return list(sim.readings(START + 2 * 86_400))


def test_the_same_seed_gives_the_same_readings_in_time_order() -> None:
    first = readings(5)
    assert first == readings(5) and first != readings(6)
    times = [ts for ts, _d, _v in first]
    assert times == sorted(times)
    per_device = {d: sum(1 for _t, x, _v in first if x == d) for d in ("AQ-1", "MC-1", "SL-1")}
    assert per_device == {"AQ-1": 48, "MC-1": 576, "SL-1": 288}


def test_only_declared_quantities_in_plausible_ranges() -> None:
    for _ts, device_id, values in readings(1):
        declared = {"AQ-1": STATION, "MC-1": COVER, "SL-1": LAMP}[device_id].quantities
        assert set(values) == set(declared)
        if "pm2_5" in values:
            assert 0 < values["pm2_5"] < 300 and values["pm10"] >= values["pm2_5"]
        if "cover_open" in values:
            assert values["cover_open"] in (0.0, 1.0)
            assert (values["tilt"] > 15) == (values["cover_open"] == 1.0)


def test_an_episode_holds_pm25_above_75_for_hours_and_lamps_follow_the_clock() -> None:
    series = [(ts, v) for ts, d, v in readings(2, share=1.0) if d == "AQ-1"]
    above = [ts for ts, v in series if v["pm2_5"] > 75]
    assert len(above) >= 3 and max(above) - min(above) >= 2 * 3600
    lamp = [(ts, v) for ts, d, v in readings(2) if d == "SL-1"]
    on = [v["lamp_on"] for ts, v in lamp]
    assert 0.3 < sum(on) / len(on) < 0.6  # on from 18:00 to 06:00, less the rare fault


def test_messages_follow_the_device_topic_and_schema() -> None:
    assert topic("onegrid/v1/", "AQ-1") == "onegrid/v1/devices/AQ-1/readings"
    doc = orjson.loads(payload(START, {"pm2_5": 12.0}))
    assert doc == {"ts": START, "values": {"pm2_5": 12.0}}
