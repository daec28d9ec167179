"""Alert rules as data: what each kind of rule means, and how a rule document is read.

Kinds (each keeps streaming state per device, or per area for ``area`` rules; see ``engine``):

``threshold``
    ``above`` (or ``below``) a value, held for ``for`` (default 0). A reading stands for its
    device's reporting interval, so hourly readings above the limit at 10:00 and 11:00 have held
    it for 2 h. A missing reading (a gap longer than 1.5 intervals) breaks a run that has not
    fired yet: the condition is not known to have held. Once fired, the alert stays until a reading
    says the condition ended (``clear_at`` gives hysteresis: a PM2.5 alert raised above 75 may
    clear only at or below 60); silence is the ``silent`` rule's business.
``state_change``
    the value becomes ``to`` (optionally only coming ``from`` another value): a cover opened.
    Clears when it leaves ``to``.
``rate_of_change``
    a rise (``rise``) or fall (``fall``) of at least the amount within ``within``: water rising
    20 cm in 30 min. Clears when the change within the window falls below the amount.
``silent``
    nothing from the device for more than ``intervals`` × its reporting interval. Clears with
    the next reading.
``area``
    at least ``min_devices`` devices in one area (``level``: district, subdistrict, community,
    unit_grid) have an active alert of rule ``of``. Clears when fewer have.

A rule names the case ``category`` its alerts open (none: alert only; ``component``: the class
of the component the device is mounted on), and may set ``urgency``,
``reopen_within`` (a firing soon after a clear reopens the same alert and case instead of a new
one) and a ``description`` template with ``{device}``, ``{value}``, ``{unit}``, ``{area}``,
``{rule}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.sensing.domain.units import QUANTITIES

RULE_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
CATEGORY = re.compile(r"^[CE][0-9]{4}$")
COMPONENT_CATEGORY = "component"
"""``category: component``: the class of the component the device is mounted on."""
AREA_LEVELS = ("city", "district", "subdistrict", "community", "unit_grid")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
URGENCIES = ("low", "normal", "high", "critical")


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    STATE_CHANGE = "state_change"
    RATE_OF_CHANGE = "rate_of_change"
    SILENT = "silent"
    AREA = "area"


@dataclass(frozen=True)
class Rule:
    """One alert rule. Fields a kind does not use keep their defaults."""

    code: str
    name: str
    kind: RuleKind
    device_kinds: frozenset[str] = frozenset()  # empty: every kind that reports the quantity
    quantity: str | None = None
    # threshold
    above: float | None = None
    below: float | None = None
    hold_s: float = 0.0
    clear_at: float | None = None
    # state_change
    to: float | None = None
    from_: float | None = None
    # rate_of_change: signed amount (negative: a fall) within a window
    change: float | None = None
    within_s: float = 0.0
    # silent
    intervals: float = 0.0
    # area
    of: str | None = None
    level: str | None = None
    min_devices: int = 0
    # what follows a firing
    category: str | None = None
    urgency: str | None = None
    reopen_within_s: float = 0.0
    description: str = ""
    enabled: bool = True

    def applies_to(self, device_kind: str, quantities: Iterable[str]) -> bool:
        """Whether the rule watches a device of this kind reporting these quantities (area
        rules watch other rules' alerts, never a device)."""
        if self.kind is RuleKind.AREA:
            return False
        if self.device_kinds and device_kind not in self.device_kinds:
            return False
        return self.kind is RuleKind.SILENT or (
            self.quantity is not None and self.quantity in quantities
        )

    def describe(self, **values: Any) -> str:
        template = self.description or "{rule}: {device} {value} {unit}"
        safe = {k: ("" if v is None else v) for k, v in values.items()}
        safe.setdefault("rule", self.name)
        try:
            return template.format(**safe)[:1000]
        except (KeyError, IndexError, ValueError):
            return f"{self.name}: {safe}"[:1000]


def parse_duration(value: Any) -> float:
    """``90``, ``"90s"``, ``"15 min"``, ``"2h"``, ``"1d"`` → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration is not negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 90s, 15min, 2h or 1d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_duration(seconds: float) -> str:
    delta = timedelta(seconds=seconds)
    if seconds and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds and seconds % 60 == 0:
        return f"{int(seconds // 60)}min"
    return f"{delta.total_seconds():g}s"


class _Reader:
    """Reads one rule's fields, collecting every problem under the rule's place."""

    def __init__(self, spec: Mapping[str, Any], where: str, out: list[FieldProblem]) -> None:
        self.spec, self.where, self.out = spec, where, out

    def problem(self, name: str, rule: str, message: str) -> None:
        self.out.append(FieldProblem(f"{self.where}.{name}", rule, message))

    def number(self, name: str, required: bool = False) -> float | None:
        raw = self.spec.get(name)
        if raw is None:
            if required:
                self.problem(name, "required", f"{name} is required for this kind of rule")
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.problem(name, "number", f"{name} must be a number")
            return None
        return float(raw)

    def duration(self, name: str, default: float = 0.0) -> float:
        raw = self.spec.get(name)
        if raw is None:
            return default
        try:
            return parse_duration(raw)
        except ValueError as exc:
            self.problem(name, "duration", str(exc))
            return default


def _kind_fields(r: _Reader, kind: RuleKind, values: dict[str, Any]) -> None:  # noqa: C901
    spec = r.spec
    if kind in (RuleKind.THRESHOLD, RuleKind.STATE_CHANGE, RuleKind.RATE_OF_CHANGE):
        quantity = spec.get("quantity")
        if quantity not in QUANTITIES:
            r.problem("quantity", "known_quantity", f"unknown quantity {quantity!r}")
        values["quantity"] = quantity
    if kind is RuleKind.THRESHOLD:
        above, below = r.number("above"), r.number("below")
        if (above is None) == (below is None):
            r.problem("above", "one_of", "a threshold rule has exactly one of above and below")
        values.update(above=above, below=below, hold_s=r.duration("for"))
        clear = r.number("clear_at")
        if clear is not None and above is not None and clear > above:
            r.problem("clear_at", "hysteresis", "clear_at is at or below the 'above' limit")
        if clear is not None and below is not None and clear < below:
            r.problem("clear_at", "hysteresis", "clear_at is at or above the 'below' limit")
        values["clear_at"] = clear
    elif kind is RuleKind.STATE_CHANGE:
        values.update(to=r.number("to", required=True), from_=r.number("from"))
    elif kind is RuleKind.RATE_OF_CHANGE:
        rise, fall = r.number("rise"), r.number("fall")
        if (rise is None) == (fall is None) or (rise or fall or 0) <= 0:
            r.problem("rise", "one_of", "give a positive 'rise' or a positive 'fall'")
        values["change"] = rise if rise is not None else -(fall or 0.0)
        values["within_s"] = r.duration("within")
        if values["within_s"] <= 0:
            r.problem("within", "required", "a rate rule needs a positive window 'within'")
    elif kind is RuleKind.SILENT:
        n = r.number("intervals", required=True)
        if n is not None and n < 1:
            r.problem("intervals", "min", "a device is silent after at least 1 interval")
        values["intervals"] = n or 0.0
    elif kind is RuleKind.AREA:
        values["of"] = str(spec.get("of") or "")
        if not values["of"]:
            r.problem("of", "required", "an area rule combines the alerts 'of' another rule")
        level = spec.get("level")
        if level not in AREA_LEVELS:
            r.problem("level", "area_level", f"level is one of {', '.join(AREA_LEVELS)}")
        values["level"] = level
        n = r.number("min_devices", required=True)
        if n is not None and (n < 1 or n != int(n)):
            r.problem("min_devices", "min", "min_devices is a whole number ≥ 1")
        values["min_devices"] = int(n or 0)


def parse_rule(spec: Any, where: str, out: list[FieldProblem]) -> Rule | None:
    if not isinstance(spec, Mapping):
        out.append(FieldProblem(where, "mapping", "a rule is a mapping"))
        return None
    r = _Reader(spec, where, out)
    before = len(out)
    code = str(spec.get("code", ""))
    if not RULE_CODE.match(code):
        r.problem("code", "rule_code", "a rule code is 1–64 of a-z, 0-9, '_', '.', '-'")
    try:
        kind = RuleKind(str(spec.get("kind")))
    except ValueError:
        r.problem("kind", "rule_kind", f"kind is one of {', '.join(k.value for k in RuleKind)}")
        return None
    values: dict[str, Any] = {}
    _kind_fields(r, kind, values)
    category = spec.get("category")
    if category == COMPONENT_CATEGORY and kind is RuleKind.AREA:
        r.problem("category", "category_code", "an area alert has no component: name a class")
    elif (
        category is not None
        and category != COMPONENT_CATEGORY
        and not CATEGORY.match(str(category))
    ):
        r.problem(
            "category", "category_code", "a case category looks like E0406, or is 'component'"
        )
    urgency = spec.get("urgency")
    if urgency is not None and urgency not in URGENCIES:
        r.problem("urgency", "urgency", f"urgency is one of {', '.join(URGENCIES)}")
    kinds = spec.get("device_kinds") or []
    if isinstance(kinds, str) or not all(isinstance(k, str) for k in kinds):
        r.problem("device_kinds", "list", "device_kinds is a list of kind codes")
        kinds = []
    if len(out) > before:
        return None
    return Rule(
        code=code,
        name=str(spec.get("name") or code)[:200],
        kind=kind,
        device_kinds=frozenset(kinds),
        category=str(category) if category else None,
        urgency=urgency,
        reopen_within_s=r.duration("reopen_within"),
        description=str(spec.get("description") or ""),
        enabled=bool(spec.get("enabled", True)),
        **values,
    )


def parse_rules(specs: Any) -> list[Rule]:
    """Rules from a list of mappings (the ``rules`` of ``data/rules.yaml``), or every problem."""
    out: list[FieldProblem] = []
    if not isinstance(specs, list):
        raise InvalidInput.one("rules", "list", "rules is a list of rule mappings")
    rules = [parse_rule(spec, f"rules[{i}]", out) for i, spec in enumerate(specs)]
    codes = [r.code for r in rules if r is not None]
    for code in {c for c in codes if codes.count(c) > 1}:
        out.append(FieldProblem("rules", "unique_code", f"rule code {code} appears twice"))
    device_rules = {r.code for r in rules if r is not None and r.kind is not RuleKind.AREA}
    for i, rule in enumerate(rules):
        if rule is not None and rule.kind is RuleKind.AREA and rule.of not in device_rules:
            out.append(
                FieldProblem(
                    f"rules[{i}].of",
                    "known_rule",
                    f"no device rule {rule.of!r} to combine (area rules combine device rules)",
                )
            )
    if out:
        raise InvalidInput(out)
    return [r for r in rules if r is not None]


def rule_to_spec(rule: Rule) -> dict[str, Any]:
    """The rule as the mapping it was read from (what the rules table and the API hold)."""
    spec: dict[str, Any] = {"code": rule.code, "name": rule.name, "kind": rule.kind.value}
    if rule.device_kinds:
        spec["device_kinds"] = sorted(rule.device_kinds)
    if rule.quantity:
        spec["quantity"] = rule.quantity
    fields = {
        "above": rule.above,
        "below": rule.below,
        "clear_at": rule.clear_at,
        "to": rule.to,
        "from": rule.from_,
        "of": rule.of,
        "level": rule.level,
        "category": rule.category,
        "urgency": rule.urgency,
    }
    spec.update({k: v for k, v in fields.items() if v is not None})
    if rule.kind is RuleKind.THRESHOLD and rule.hold_s:
        spec["for"] = format_duration(rule.hold_s)
    if rule.kind is RuleKind.RATE_OF_CHANGE and rule.change is not None:
        spec["rise" if rule.change > 0 else "fall"] = abs(rule.change)
        spec["within"] = format_duration(rule.within_s)
    if rule.kind is RuleKind.SILENT:
        spec["intervals"] = rule.intervals
    if rule.kind is RuleKind.AREA:
        spec["min_devices"] = rule.min_devices
    if rule.reopen_within_s:
        spec["reopen_within"] = format_duration(rule.reopen_within_s)
    if rule.description:
        spec["description"] = rule.description
    if not rule.enabled:
        spec["enabled"] = False
    return spec
