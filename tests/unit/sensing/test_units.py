from __future__ import annotations

import pytest

from onegrid.sensing.domain.units import QUANTITIES, UNITS, UnitProblem, conversion, unit_symbol


@pytest.mark.parametrize(
    ("quantity", "unit", "value", "expected"),
    [
        ("pm2_5", "µg/m³", 81.0, 81.0),
        ("pm2_5", "ug/m3", 81.0, 81.0),
        ("pm2_5", "μg/m³", 81.0, 81.0),  # Greek mu
        ("pm2_5", "mg/m³", 0.081, 81.0),
        ("pm2_5", "MG/M3", 0.5, 500.0),
        ("co", "µg/m³", 700.0, 0.7),
        ("temperature", "°F", 212.0, 100.0),
        ("temperature", "degF", 32.0, 0.0),
        ("temperature", "K", 273.15, 0.0),
        ("tilt", "rad", 3.141592653589793, 180.0),
        ("water_level", "cm", 15.0, 0.15),
        ("water_level", "mm", 150.0, 0.15),
        ("power", "kW", 0.25, 250.0),
        ("pressure", "kPa", 101.3, 1013.0),
    ],
)
def test_conversions_to_the_canonical_unit(
    quantity: str, unit: str, value: float, expected: float
) -> None:
    assert conversion(quantity, unit)(value) == pytest.approx(expected)


def test_the_canonical_unit_is_the_identity() -> None:
    for q in QUANTITIES.values():
        assert conversion(q.name, q.unit).identity


@pytest.mark.parametrize(
    ("quantity", "unit", "words"),
    [
        ("pm2_5", "°C", "temperature"),
        ("water_level", "W", "power"),
        ("pm2_5", "furlongs", "unknown unit"),
        ("nonsense", "m", "unknown quantity"),
    ],
)
def test_units_of_another_dimension_are_refused_with_the_reason(
    quantity: str, unit: str, words: str
) -> None:
    with pytest.raises(UnitProblem, match=words):
        conversion(quantity, unit)


def test_aliases_resolve_to_known_symbols() -> None:
    assert unit_symbol(" µg / m3 ") == "µg/m³"
    assert unit_symbol("percent") == "%"
    assert unit_symbol("lightyears") is None
    assert all(q.unit in UNITS for q in QUANTITIES.values())
