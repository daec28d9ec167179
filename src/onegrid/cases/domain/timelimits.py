"""Time limits per category × urgency × region class for each timed step, as versioned data.

A city's limits change; a case keeps the version in force on the day it was filed, so a rule
change never moves the deadline of a case already running. The book is built from a plain
mapping (what a YAML or JSON file holds) and every broken rule is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from onegrid.cases.domain.calendar import WorkingCalendar
from onegrid.cases.domain.states import Step, Urgency
from onegrid.core.errors import FieldProblem, InvalidInput

ANY = "*"
# The longest single extension, in days counted the way the grant is stated. DOMAIN.md (§4, §5)
# and the time-limit file bound only how often a case is extended (max_extensions), not by how
# much; 30 working days is what the web's request form has always offered, and is longer than
# any limit of the example data (demolishing an illegal structure: 20 working days), so a
# department can still ask for a step's whole length again.
MAX_EXTENSION_DAYS = 30


class LimitUnit(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_HOURS = "natural_hours"  # emergencies: the clock runs day and night


@dataclass(frozen=True)
class Limit:
    amount: float
    unit: LimitUnit

    @property
    def natural(self) -> bool:
        return self.unit is LimitUnit.NATURAL_HOURS

    def duration(self, calendar: WorkingCalendar, start: datetime) -> timedelta:
        """The limit as working time (or wall time, for natural hours) for a step starting at
        ``start``: a working day is as long as one under the periods in force that day."""
        if self.unit is LimitUnit.WORKING_DAYS:
            return calendar.working_days(start, self.amount)
        return timedelta(hours=self.amount)

    def within_days(self, days: float, calendar: WorkingCalendar, start: datetime) -> bool:
        """At most ``days`` days counted in this limit's own unit: that many working days, as
        many working hours as that many working days hold, or that many 24-hour days."""
        # Compared as numbers, so that an absurd amount is refused, never overflows a timedelta.
        if self.unit is LimitUnit.WORKING_DAYS:
            return self.amount <= days
        if self.unit is LimitUnit.WORKING_HOURS:
            return self.amount <= calendar.working_days(start, days) / timedelta(hours=1)
        return self.amount <= days * 24

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit.value.replace('_', ' ')}"


@dataclass(frozen=True)
class StepLimits:
    """The limits one case runs under, resolved once for its category, urgency and region."""

    version: str
    dispatch: Limit
    handle: Limit
    check: Limit

    def for_step(self, step: Step) -> Limit:
        return {Step.DISPATCH: self.dispatch, Step.HANDLE: self.handle, Step.CHECK: self.check}[
            step
        ]


@dataclass(frozen=True)
class LimitRule:
    category: str  # a code prefix (E01, E0102) or *
    urgency: str  # an urgency or *
    region: str  # a region class or *
    limits: Mapping[Step, Limit]

    def matches(self, category: str, urgency: str, region: str) -> bool:
        return (
            (self.category == ANY or category.startswith(self.category))
            and self.urgency in (ANY, urgency)
            and self.region in (ANY, region)
        )

    @property
    def specificity(self) -> tuple[int, int, int]:
        # An exact urgency first (an emergency runs on natural hours whatever its class), then
        # the longest category prefix, then an exact region.
        cat = 0 if self.category == ANY else len(self.category)
        return (self.urgency != ANY, cat, self.region != ANY)


@dataclass(frozen=True)
class LimitVersion:
    version: str
    valid_from: date
    defaults: Mapping[Step, Limit]
    rules: tuple[LimitRule, ...]

    def resolve(self, category: str, urgency: str, region: str) -> StepLimits:
        ordered = sorted(
            (r for r in self.rules if r.matches(category, urgency, region)),
            key=lambda r: r.specificity,
            reverse=True,
        )
        chosen: dict[Step, Limit] = {}
        for step in Step:
            chosen[step] = next(
                (r.limits[step] for r in ordered if step in r.limits), self.defaults[step]
            )
        return StepLimits(
            self.version, chosen[Step.DISPATCH], chosen[Step.HANDLE], chosen[Step.CHECK]
        )


@dataclass
class TimeLimitBook:
    """Every version of the limits, the region classes, and the extension rules."""

    name: str
    versions: tuple[LimitVersion, ...]  # oldest first
    region_default: str
    region_of_area: Mapping[str, str]
    max_extensions: int
    _cache: dict[tuple[str, str, str, str], StepLimits] = field(default_factory=dict, repr=False)

    def version_on(self, day: date) -> LimitVersion:
        current = [v for v in self.versions if v.valid_from <= day]
        if not current:
            first = self.versions[0]
            raise InvalidInput.one(
                "created_at",
                "time_limits_in_force",
                f"no time limits were in force on {day}; the first version "
                f"({first.version}) starts on {first.valid_from}",
            )
        return current[-1]

    def version(self, label: str) -> LimitVersion:
        for v in self.versions:
            if v.version == label:
                return v
        raise InvalidInput.one(
            "limits_version", "known_limits_version", f"unknown time-limit version {label!r}"
        )

    def region_class(self, area_chain: Sequence[str]) -> str:
        """The class of the finest area in the chain that has one, else the default."""
        for code in reversed(area_chain):
            found = self.region_of_area.get(code)
            if found is not None:
                return found
        return self.region_default

    def limits(self, version: str, category: str, urgency: str, region: str) -> StepLimits:
        key = (version, category, urgency, region)
        hit = self._cache.get(key)
        if hit is None:
            hit = self.version(version).resolve(category, urgency, region)
            self._cache[key] = hit
        return hit


def parse_limit(value: Any, where: str, problems: list[FieldProblem]) -> Limit | None:
    """``{amount: 4, unit: working_hours}`` or the short form ``"4 working_hours"``."""
    if isinstance(value, str):
        amount_text, _, unit_text = value.strip().partition(" ")
        value = {"amount": amount_text, "unit": unit_text.strip()}
    if not isinstance(value, Mapping):
        problems.append(FieldProblem(where, "limit_shape", "a limit is {amount, unit}"))
        return None
    try:
        amount = float(value.get("amount", ""))
    except (TypeError, ValueError):
        amount = -1.0
    if amount <= 0:
        problems.append(FieldProblem(where, "limit_amount", "amount must be a positive number"))
        return None
    try:
        unit = LimitUnit(str(value.get("unit", "")))
    except ValueError:
        known = ", ".join(u.value for u in LimitUnit)
        problems.append(FieldProblem(where, "limit_unit", f"unit must be one of {known}"))
        return None
    return Limit(amount, unit)


def _step_limits(
    data: Mapping[str, Any], where: str, problems: list[FieldProblem]
) -> dict[Step, Limit]:
    out: dict[Step, Limit] = {}
    for step in Step:
        if step.value in data:
            limit = parse_limit(data[step.value], f"{where}.{step.value}", problems)
            if limit is not None:
                out[step] = limit
    return out


def _parse_rule(raw: Any, where: str, problems: list[FieldProblem]) -> LimitRule | None:
    if not isinstance(raw, Mapping):
        problems.append(FieldProblem(where, "rule_shape", "a rule is a mapping"))
        return None
    urgency = str(raw.get("urgency", ANY))
    if urgency != ANY and urgency not in {u.value for u in Urgency}:
        problems.append(
            FieldProblem(f"{where}.urgency", "known_urgency", f"unknown urgency {urgency!r}")
        )
    limits = _step_limits(raw, where, problems)
    if not limits:
        problems.append(
            FieldProblem(
                where, "rule_sets_a_step", "a rule sets at least one of dispatch, handle, check"
            )
        )
    return LimitRule(str(raw.get("category", ANY)), urgency, str(raw.get("region", ANY)), limits)


def parse_version(raw: Any, where: str, problems: list[FieldProblem]) -> LimitVersion | None:
    """One version of a document, or None with its problems added."""
    if not isinstance(raw, Mapping):
        problems.append(FieldProblem(where, "version_shape", "a version is a mapping"))
        return None
    valid_from = raw.get("valid_from")
    if isinstance(valid_from, str):
        try:
            valid_from = date.fromisoformat(valid_from)
        except ValueError:
            valid_from = None
    if not isinstance(valid_from, date):
        problems.append(FieldProblem(f"{where}.valid_from", "date", "valid_from is a date"))
        return None
    defaults = _step_limits(raw.get("defaults") or {}, f"{where}.defaults", problems)
    missing = [s.value for s in Step if s not in defaults]
    if missing:
        problems.append(
            FieldProblem(
                f"{where}.defaults", "defaults_complete", f"defaults lack {', '.join(missing)}"
            )
        )
    rules = [
        _parse_rule(r, f"{where}.rules[{i}]", problems)
        for i, r in enumerate(raw.get("rules") or [])
    ]
    return LimitVersion(
        str(raw.get("version", "")), valid_from, defaults, tuple(r for r in rules if r is not None)
    )


def build_time_limit_book(data: Mapping[str, Any]) -> TimeLimitBook:
    """Validate a time-limit document and build the book; every problem is reported at once."""
    problems: list[FieldProblem] = []
    raw_versions = data.get("versions") or []
    versions = [parse_version(v, f"versions[{i}]", problems) for i, v in enumerate(raw_versions)]
    kept = sorted((v for v in versions if v is not None), key=lambda v: v.valid_from)
    if not raw_versions:
        problems.append(FieldProblem("versions", "required", "at least one version is needed"))
    labels = [v.version for v in kept]
    if len(set(labels)) != len(labels) or "" in labels:
        problems.append(
            FieldProblem(
                "versions", "unique_version", "every version needs a distinct, non-empty label"
            )
        )
    regions = data.get("region_classes") or {}
    areas = regions.get("areas") or {}
    max_ext = data.get("max_extensions", 2)
    if not isinstance(max_ext, int) or max_ext < 0:
        problems.append(
            FieldProblem(
                "max_extensions", "non_negative_int", "max_extensions is a whole number ≥ 0"
            )
        )
        max_ext = 0
    if problems:
        raise InvalidInput(problems)
    return TimeLimitBook(
        name=str(data.get("name", "")),
        versions=tuple(kept),
        region_default=str(regions.get("default", "core")),
        region_of_area={str(k): str(v) for k, v in areas.items()},
        max_extensions=max_ext,
    )
