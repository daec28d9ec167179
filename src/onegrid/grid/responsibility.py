"""Who is responsible for a problem at a place: duty rules and the territorial fallback (属地兜底).

Plain Python: the rules are passed in, so the choice is tested without a database.

Precedence, in words a dispatcher can check:
1. *Owner* rules whose area contains the place and whose category prefix covers the category.
   The rule on the finest area wins (a district's own rule overrides the city's); among rules on
   the same area, the longest prefix wins (``E0101`` before ``E01`` before ``*``).
2. If no owner rule covers it, the territorial unit of the place's subdistrict, then of its
   district, then of the city.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from onegrid.grid.domain import Level, Location

ANY_CATEGORY = "*"
CATEGORY_PREFIX = re.compile(r"\*|[A-Z](?:[0-9]{2}){0,4}")
TERRITORIAL_LEVELS: tuple[Level, ...] = (Level.SUBDISTRICT, Level.DISTRICT, Level.CITY)
_FINEST_FIRST: tuple[Level, ...] = tuple(reversed(Level))


class DutyKind(StrEnum):
    OWNER = "owner"
    TERRITORIAL = "territorial"


def category_prefix_problem(prefix: str) -> str | None:
    if CATEGORY_PREFIX.fullmatch(prefix):
        return None
    return (
        f"category prefix {prefix!r} must be '*' or a class letter followed by pairs of digits, "
        "e.g. C01, E0101"
    )


def prefix_covers(prefix: str, category_code: str) -> bool:
    """Whether a rule's category prefix takes in the category (``*`` takes in every one)."""
    return prefix == ANY_CATEGORY or category_code.startswith(prefix)


@dataclass(frozen=True)
class DutyRule:
    id: int
    area_code: str
    category_prefix: str
    department_code: str
    kind: DutyKind

    def covers(self, category_code: str) -> bool:
        return prefix_covers(self.category_prefix, category_code)

    @property
    def prefix_length(self) -> int:
        return 0 if self.category_prefix == ANY_CATEGORY else len(self.category_prefix)


@dataclass(frozen=True)
class DutyMatch:
    department_code: str
    kind: DutyKind
    rule_id: int
    area_code: str
    category_prefix: str
    explanation: str


def _describe(rule: DutyRule) -> str:
    what = "any category" if rule.category_prefix == ANY_CATEGORY else rule.category_prefix
    return f"rule #{rule.id} ({what} in {rule.area_code} → {rule.department_code})"


def _best(rules: list[DutyRule]) -> DutyRule:
    # Newest rule last on a full tie; the write side closes a rule before adding its successor,
    # so a tie only happens if two rules were deliberately made to overlap.
    return max(rules, key=lambda r: (r.prefix_length, r.id))


def choose_department(
    rules: Iterable[DutyRule], category_code: str, location: Location
) -> DutyMatch | None:
    """The department a problem of ``category_code`` at ``location`` goes to, with the reason."""
    covering = [r for r in rules if r.covers(category_code)]
    owners = [r for r in covering if r.kind is DutyKind.OWNER]
    for level in _FINEST_FIRST:
        code = location.code_at(level)
        here = [r for r in owners if code and r.area_code == code]
        if here:
            rule = _best(here)
            others = len(owners) - 1
            return DutyMatch(
                rule.department_code,
                DutyKind.OWNER,
                rule.id,
                rule.area_code,
                rule.category_prefix,
                f"owner {_describe(rule)} on the {level} {code}: the finest area with an owner "
                f"rule for {category_code}, longest prefix first"
                + (f"; {others} less specific owner rule(s) also cover it" if others else ""),
            )
    tried: list[str] = []
    territorial = [r for r in covering if r.kind is DutyKind.TERRITORIAL]
    for level in TERRITORIAL_LEVELS:
        code = location.code_at(level)
        if not code:
            continue
        here = [r for r in territorial if r.area_code == code]
        if here:
            rule = _best(here)
            skipped = f" ({', '.join(tried)} has no territorial unit)" if tried else ""
            return DutyMatch(
                rule.department_code,
                DutyKind.TERRITORIAL,
                rule.id,
                rule.area_code,
                rule.category_prefix,
                f"no owner rule covers {category_code} here, so the territorial unit of the "
                f"{level} {code} takes it (属地兜底): {_describe(rule)}{skipped}",
            )
        tried.append(f"{level} {code}")
    return None
