"""The city's spatial hierarchy as plain values: levels, areas, unit grids, locations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Level(StrEnum):
    """Administrative tiers, coarsest first; a unit grid sits inside one community."""

    CITY = "city"
    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"
    UNIT_GRID = "unit_grid"

    @property
    def depth(self) -> int:
        return list(Level).index(self)


AREA_LEVELS: tuple[Level, ...] = (Level.CITY, Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY)


@dataclass(frozen=True)
class Location:
    """Where a point lies: the code at every tier the city has, and its H3 cells.

    A tier the city has not loaded (e.g. no communities) is ``None``.
    """

    lon: float
    lat: float
    unit_grid: str | None
    community: str | None
    subdistrict: str | None
    district: str | None
    city: str | None
    h3_9: str
    h3_10: str
    h3_11: str

    def code_at(self, level: Level) -> str | None:
        return {
            Level.CITY: self.city,
            Level.DISTRICT: self.district,
            Level.SUBDISTRICT: self.subdistrict,
            Level.COMMUNITY: self.community,
            Level.UNIT_GRID: self.unit_grid,
        }[level]

    @property
    def area_chain(self) -> tuple[str, ...]:
        """Codes from the city down to the unit grid, for scope checks and rollups."""
        codes = (self.city, self.district, self.subdistrict, self.community, self.unit_grid)
        return tuple(c for c in codes if c)


AREA_CODE_DIGITS = 12
"""Positions an area code takes in a unit-grid code: 6 district + 3 subdistrict + 3 community."""
UNIT_GRID_CODE_DIGITS = 15
MAX_GRIDS_PER_AREA = 999

_DIGITS = re.compile(r"[0-9]+")


def padded_area_code(code: str) -> str:
    """The 12 leading digits of the unit-grid codes inside an area.

    Chinese admin codes are positional (GB/T 2260 and its 9/12-digit extensions): a subdistrict
    ``110101001`` stands for community ``000`` of itself, so codes are padded with zeros on the
    right, as ``110000`` stands for the whole of Beijing. Codes from elsewhere (NYC ``101``) are
    padded the same way so the rule stays one rule.
    """
    if not _DIGITS.fullmatch(code) or len(code) > AREA_CODE_DIGITS:
        raise ValueError(
            f"area code {code!r} cannot lead a unit-grid code: it must be at most "
            f"{AREA_CODE_DIGITS} digits"
        )
    return code.ljust(AREA_CODE_DIGITS, "0")


def unit_grid_code(area_code: str, sequence: int) -> str:
    if not 1 <= sequence <= MAX_GRIDS_PER_AREA:
        raise ValueError(f"unit-grid sequence {sequence} is outside 1..{MAX_GRIDS_PER_AREA}")
    return f"{padded_area_code(area_code)}{sequence:03d}"


def unit_grid_code_problem(code: str, community_code: str) -> str | None:
    """Why ``code`` is not a valid unit-grid code inside ``community_code``; None if it is."""
    if len(code) != UNIT_GRID_CODE_DIGITS or not _DIGITS.fullmatch(code):
        return (
            f"unit-grid code {code!r} must be {UNIT_GRID_CODE_DIGITS} digits "
            "(6 district + 3 subdistrict + 3 community + 3 sequence)"
        )
    try:
        prefix = padded_area_code(community_code)
    except ValueError as exc:
        return str(exc)
    if not code.startswith(prefix):
        return f"unit-grid code {code} does not start with its community's digits {prefix}"
    if code.endswith("000"):
        return f"unit-grid code {code} has sequence 000; sequences start at 001"
    return None


def valid_on(valid_from: date, valid_to: date | None, on: date) -> bool:
    """Validity periods are half-open: ``[valid_from, valid_to)``."""
    return valid_from <= on and (valid_to is None or on < valid_to)
