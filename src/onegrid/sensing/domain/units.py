"""Quantities, units and conversions.

Every quantity has one canonical unit, the unit readings are stored in. A device declares the unit
it sends; a payload may name another unit of the same dimension (mg/m³ for a particle count in
µg/m³, °F for a temperature) and it is converted on the way in; a unit of another dimension is a
mismatch, and the reading is refused with that reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Dimension(StrEnum):
    MASS_CONCENTRATION = "mass_concentration"
    TEMPERATURE = "temperature"
    RATIO = "ratio"
    ANGLE = "angle"
    LENGTH = "length"
    POWER = "power"
    VOLTAGE = "voltage"
    PRESSURE = "pressure"
    SPEED = "speed"
    ILLUMINANCE = "illuminance"
    SOUND_LEVEL = "sound_level"
    STATE = "state"
    COUNT = "count"


@dataclass(frozen=True)
class Unit:
    symbol: str
    dimension: Dimension
    # value in the dimension's base unit = value × scale + offset
    scale: float = 1.0
    offset: float = 0.0
    cefact: str | None = None  # UN/CEFACT common code, what NGSI-LD's ``unitCode`` carries


_UNITS: tuple[Unit, ...] = (
    Unit("µg/m³", Dimension.MASS_CONCENTRATION, 1.0, 0.0, "GQ"),
    Unit("mg/m³", Dimension.MASS_CONCENTRATION, 1000.0, 0.0, "GP"),
    Unit("°C", Dimension.TEMPERATURE, 1.0, 0.0, "CEL"),
    Unit("°F", Dimension.TEMPERATURE, 5.0 / 9.0, -32.0 * 5.0 / 9.0, "FAH"),
    Unit("K", Dimension.TEMPERATURE, 1.0, -273.15, "KEL"),
    Unit("%", Dimension.RATIO, 1.0, 0.0, "P1"),
    Unit("deg", Dimension.ANGLE, 1.0, 0.0, "DD"),
    Unit("rad", Dimension.ANGLE, 180.0 / math.pi, 0.0, "C81"),
    Unit("m", Dimension.LENGTH, 1.0, 0.0, "MTR"),
    Unit("cm", Dimension.LENGTH, 0.01, 0.0, "CMT"),
    Unit("mm", Dimension.LENGTH, 0.001, 0.0, "MMT"),
    Unit("W", Dimension.POWER, 1.0, 0.0, "WTT"),
    Unit("kW", Dimension.POWER, 1000.0, 0.0, "KWT"),
    Unit("V", Dimension.VOLTAGE, 1.0, 0.0, "VLT"),
    Unit("mV", Dimension.VOLTAGE, 0.001, 0.0, "2Z"),
    Unit("hPa", Dimension.PRESSURE, 1.0, 0.0, "A97"),
    Unit("Pa", Dimension.PRESSURE, 0.01, 0.0, "PAL"),
    Unit("kPa", Dimension.PRESSURE, 10.0, 0.0, "KPA"),
    Unit("m/s", Dimension.SPEED, 1.0, 0.0, "MTS"),
    Unit("km/h", Dimension.SPEED, 1.0 / 3.6, 0.0, "KMH"),
    Unit("lx", Dimension.ILLUMINANCE, 1.0, 0.0, "LUX"),
    Unit("dB", Dimension.SOUND_LEVEL, 1.0, 0.0, "2N"),
    Unit("state", Dimension.STATE),
    Unit("count", Dimension.COUNT, 1.0, 0.0, "C62"),
)
UNITS: dict[str, Unit] = {u.symbol: u for u in _UNITS}

# Spellings devices send, mapped to the symbol above. Matching ignores case and spaces.
_ALIASES: dict[str, str] = {
    "ug/m3": "µg/m³",
    "ug/m^3": "µg/m³",
    "µg/m3": "µg/m³",
    "μg/m³": "µg/m³",  # Greek small mu, not the micro sign
    "μg/m3": "µg/m³",
    "mg/m3": "mg/m³",
    "mg/m^3": "mg/m³",
    "c": "°C",
    "degc": "°C",
    "celsius": "°C",
    "cel": "°C",
    "f": "°F",
    "degf": "°F",
    "fahrenheit": "°F",
    "kelvin": "K",
    "percent": "%",
    "%rh": "%",
    "pct": "%",
    "°": "deg",
    "degree": "deg",
    "degrees": "deg",
    "dd": "deg",
    "radian": "rad",
    "radians": "rad",
    "metre": "m",
    "meter": "m",
    "mtr": "m",
    "w": "W",
    "watt": "W",
    "kw": "kW",
    "v": "V",
    "mv": "mV",
    "hpa": "hPa",
    "mbar": "hPa",
    "pa": "Pa",
    "kpa": "kPa",
    "kmh": "km/h",
    "lux": "lx",
    "db": "dB",
    "dba": "dB",
    "bool": "state",
    "boolean": "state",
    "1": "count",
}
_LOOKUP: dict[str, str] = {s.lower().replace(" ", ""): s for s in UNITS}
_LOOKUP.update({k.lower().replace(" ", ""): v for k, v in _ALIASES.items()})


@dataclass(frozen=True)
class Quantity:
    name: str
    unit: str  # canonical
    name_en: str
    ngsi: str  # the attribute name FIWARE's smart data models use, where one exists

    @property
    def dimension(self) -> Dimension:
        return UNITS[self.unit].dimension


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity("pm2_5", "µg/m³", "PM2.5", "pm25"),
        Quantity("pm10", "µg/m³", "PM10", "pm10"),
        Quantity("no2", "µg/m³", "NO₂", "no2"),
        Quantity("so2", "µg/m³", "SO₂", "so2"),
        Quantity("o3", "µg/m³", "O₃", "o3"),
        # GB 3095-2012 states CO limits in mg/m³.
        Quantity("co", "mg/m³", "CO", "co"),
        Quantity("temperature", "°C", "air temperature", "temperature"),
        Quantity("humidity", "%", "relative humidity", "relativeHumidity"),
        Quantity("pressure", "hPa", "air pressure", "atmosphericPressure"),
        Quantity("wind_speed", "m/s", "wind speed", "windSpeed"),
        Quantity("noise", "dB", "sound level", "LAeq"),
        Quantity("tilt", "deg", "cover tilt", "tilt"),
        Quantity("cover_open", "state", "cover open (1) or shut (0)", "coverOpen"),
        Quantity("water_level", "m", "water depth above the road", "waterLevel"),
        Quantity("lamp_on", "state", "lamp lit (1) or dark (0)", "powerState"),
        Quantity("lamp_fault", "state", "lamp fault flag", "fault"),
        Quantity("power", "W", "electric power", "power"),
        Quantity("illuminance", "lx", "illuminance", "illuminance"),
        Quantity("battery", "%", "battery charge", "batteryLevel"),
        Quantity("voltage", "V", "supply voltage", "voltage"),
        Quantity("bikes", "count", "parked bikes", "bikes"),
        Quantity("people", "count", "people counted", "peopleCount"),
        Quantity("rubbish_detected", "state", "exposed rubbish detected (video AI)", "rubbish"),
    )
}


class UnitProblem(ValueError):
    """Why a unit cannot be used for a quantity; the message is shown to the sender."""


def unit_symbol(text: str) -> str | None:
    """The canonical symbol of a unit as a device spells it, or None when unknown."""
    return _LOOKUP.get(text.strip().lower().replace(" ", ""))


@dataclass(frozen=True)
class Conversion:
    """From a sent unit to the quantity's canonical unit: ``value × scale + offset``."""

    scale: float
    offset: float

    @property
    def identity(self) -> bool:
        return self.scale == 1.0 and self.offset == 0.0

    def __call__(self, value: float) -> float:
        return value * self.scale + self.offset


IDENTITY = Conversion(1.0, 0.0)


def conversion(quantity: str, unit_text: str) -> Conversion:
    """How to bring ``unit_text`` to ``quantity``'s canonical unit, or ``UnitProblem``."""
    q = QUANTITIES.get(quantity)
    if q is None:
        raise UnitProblem(f"unknown quantity {quantity!r}")
    symbol = unit_symbol(unit_text)
    if symbol is None:
        raise UnitProblem(f"unknown unit {unit_text!r} for {quantity} (stored in {q.unit})")
    source, target = UNITS[symbol], UNITS[q.unit]
    if source.dimension is not target.dimension:
        raise UnitProblem(
            f"{unit_text!r} is a unit of {source.dimension.value}, but {quantity} is a "
            f"{target.dimension.value} in {q.unit}"
        )
    # value_base = v × s_src + o_src;  value_target = (value_base − o_tgt) / s_tgt
    scale = source.scale / target.scale
    offset = (source.offset - target.offset) / target.scale
    return Conversion(scale, offset)


def cefact_code(quantity: str) -> str | None:
    q = QUANTITIES.get(quantity)
    return UNITS[q.unit].cefact if q else None
