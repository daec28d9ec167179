"""``onegrid sensors simulate``: plausible readings for the registered devices, over MQTT.

Each kind has a small model, enough for a demo to show charts and rules firing:

* air quality: PM2.5 follows a daily cycle (higher at night and in the morning rush) with
  autocorrelated noise; a few stations go through a pollution episode (above 75 µg/m³ for some
  hours, so ``aq.pm25.high`` fires and clears); PM10 ≈ 1.6 × PM2.5; temperature and humidity
  follow the sun;
* manhole covers: a small tilt with noise; now and then one is lifted (``cover_open`` 1, tilt
  about 40°) and put back a few readings later;
* water-level gauges: dry, until a rain shower over the district fills some of them for a while;
* street lamps: on from 18:00 to 06:00 local time at about 150 W, with a rare fault;
* video-AI sources: people and bikes in view by the hour of the day, rubbish seen now and then;
* anything else: a value near the middle of a plausible range.

The same seed gives the same readings. Timestamps are the simulated time: a back-fill of past
hours (published as fast as the broker takes them) lets the rules fire at once; after it, the
readings keep coming in real time.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from onegrid.sensing.domain.devices import Device

DAY = 86_400.0


@dataclass
class _State:
    device: Device
    phase: float
    level: float = 0.0
    episode: tuple[float, float] | None = None  # (start, end) of a PM2.5 episode
    held: int = 0  # readings an opened cover stays open, a fault stays on
    extra: dict[str, float] = field(default_factory=dict)


class Simulator:
    """Readings of ``devices`` from ``start`` on, in time order; see the module docstring."""

    def __init__(
        self,
        devices: Sequence[Device],
        *,
        start: float,
        seed: int = 1,
        timezone: str = "Asia/Shanghai",
        episode_share: float = 0.25,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.zone = ZoneInfo(timezone)
        self.start = start
        self.states = [_State(d, float(self.rng.uniform(0, 1))) for d in devices]
        for state in self.states:
            if "pm2_5" in state.device.quantities and self.rng.random() < episode_share:
                begin = start + float(self.rng.uniform(0, 3)) * 3600
                state.episode = (begin, begin + float(self.rng.uniform(3, 6)) * 3600)
        self.rain: dict[str, tuple[float, float]] = {}

    def local_hour(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.zone)
        return local.hour + local.minute / 60.0

    def readings(self, until: float) -> Iterator[tuple[float, str, dict[str, float]]]:
        """(ts, device id, values) from the start up to ``until``, in time order."""
        due = [(self.start + s.phase * s.device.interval_s, i) for i, s in enumerate(self.states)]
        heapq.heapify(due)
        while due and due[0][0] <= until:
            ts, i = heapq.heappop(due)
            state = self.states[i]
            yield ts, state.device.id, self.values(state, ts)
            heapq.heappush(due, (ts + state.device.interval_s, i))

    def values(self, state: _State, ts: float) -> dict[str, float]:
        kind = state.device.kind
        model = _MODELS.get(kind)
        values = model(self, state, ts) if model else {}
        for quantity in state.device.quantities:
            if quantity not in values:
                values[quantity] = round(float(self.rng.uniform(0.4, 0.6)) * 100, 2)
        return {q: v for q, v in values.items() if q in state.device.quantities}


def _air(sim: Simulator, s: _State, ts: float) -> dict[str, float]:
    hour = sim.local_hour(ts)
    base = 35 + 15 * math.cos((hour - 2) / 24 * 2 * math.pi) + 8 * math.exp(-((hour - 8) ** 2) / 4)
    s.level = 0.8 * s.level + float(sim.rng.normal(0, 4))
    pm = max(3.0, base + s.level)
    if s.episode and s.episode[0] <= ts <= s.episode[1]:
        pm = 95 + 30 * math.sin((ts - s.episode[0]) / (s.episode[1] - s.episode[0]) * math.pi)
        pm += float(sim.rng.normal(0, 5))
    temp = 12 + 6 * math.sin((hour - 9) / 24 * 2 * math.pi) + float(sim.rng.normal(0, 0.3))
    return {
        "pm2_5": round(pm, 1),
        "pm10": round(pm * float(sim.rng.uniform(1.4, 1.8)), 1),
        "no2": round(30 + pm * 0.3 + float(sim.rng.normal(0, 3)), 1),
        "so2": round(max(1.0, 6 + float(sim.rng.normal(0, 1.5))), 1),
        "o3": round(max(2.0, 60 * math.sin(max(0.0, hour - 6) / 14 * math.pi) + 10), 1),
        "co": round(max(0.1, 0.5 + pm / 200), 2),
        "temperature": round(temp, 1),
        "humidity": round(min(100.0, max(10.0, 55 - (temp - 12) * 2)), 1),
        "pressure": round(1013 + float(sim.rng.normal(0, 1)), 1),
        "wind_speed": round(abs(float(sim.rng.normal(2.5, 1))), 1),
    }


def _cover(sim: Simulator, s: _State, ts: float) -> dict[str, float]:
    if s.held == 0 and sim.rng.random() < 0.003:
        s.held = int(sim.rng.integers(2, 6))
    opened = s.held > 0
    s.held = max(0, s.held - 1)
    tilt = 40 + float(sim.rng.normal(0, 5)) if opened else abs(float(sim.rng.normal(1, 0.5)))
    battery = s.extra.setdefault("battery", float(sim.rng.uniform(60, 100)))
    return {"tilt": round(tilt, 1), "cover_open": 1.0 if opened else 0.0, "battery": battery}


def _water(sim: Simulator, s: _State, ts: float) -> dict[str, float]:
    district = s.device.areas.get("district", "")
    shower = sim.rain.get(district)
    if shower is None or ts > shower[1] + 7200:
        begin = ts + float(sim.rng.exponential(2 * DAY))
        shower = sim.rain[district] = (begin, begin + float(sim.rng.uniform(1800, 5400)))
    depth = 0.0
    if shower[0] <= ts <= shower[1] + 3600 and s.phase < 0.7:
        rise = min(1.0, (ts - shower[0]) / 1800)
        fall = max(0.0, (ts - shower[1]) / 3600)
        depth = max(0.0, 0.25 * (1 + s.phase) * rise * (1 - fall))
    return {"water_level": round(depth + abs(float(sim.rng.normal(0, 0.003))), 3), "battery": 90.0}


def _lamp(sim: Simulator, s: _State, ts: float) -> dict[str, float]:
    hour = sim.local_hour(ts)
    on = hour >= 18 or hour < 6
    if s.held == 0 and sim.rng.random() < 0.001:
        s.held = int(sim.rng.integers(3, 12))
    fault = s.held > 0
    s.held = max(0, s.held - 1)
    power = 0.0 if fault or not on else 150 + float(sim.rng.normal(0, 3))
    return {
        "lamp_on": 1.0 if on and not fault else 0.0,
        "lamp_fault": 1.0 if fault else 0.0,
        "power": round(power, 1),
        "voltage": round(220 + float(sim.rng.normal(0, 2)), 1),
    }


def _camera(sim: Simulator, s: _State, ts: float) -> dict[str, float]:
    hour = sim.local_hour(ts)
    busy = math.exp(-((hour - 8.5) ** 2) / 3) + math.exp(-((hour - 18) ** 2) / 4) + 0.2
    if s.held == 0 and sim.rng.random() < 0.002:
        s.held = int(sim.rng.integers(10, 60))
    rubbish = s.held > 0
    s.held = max(0, s.held - 1)
    return {
        "people": float(sim.rng.poisson(40 * busy)),
        "bikes": float(sim.rng.poisson(15 * busy)),
        "rubbish_detected": 1.0 if rubbish else 0.0,
    }


def _noise(sim: Simulator, s: _State, ts: float) -> dict[str, float]:
    hour = sim.local_hour(ts)
    return {"noise": round(45 + 15 * (6 <= hour < 22) + float(sim.rng.normal(0, 3)), 1)}


_MODELS: Mapping[str, Callable[[Simulator, _State, float], dict[str, float]]] = {
    "air_quality": _air,
    "air_micro": _air,
    "manhole_cover": _cover,
    "water_level": _water,
    "street_lamp": _lamp,
    "video_ai": _camera,
    "noise": _noise,
}


def payload(ts: float, values: Mapping[str, float]) -> bytes:
    """The message a device sends on its own topic."""
    return orjson.dumps({"ts": round(ts, 3), "values": values})


def topic(prefix: str, device_id: str) -> str:
    return f"{prefix.rstrip('/')}/devices/{device_id}/readings"
