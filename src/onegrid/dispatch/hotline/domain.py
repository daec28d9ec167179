"""The hotline's rules in plain Python: natures, callback answers, feedback limits by class."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from onegrid.core.errors import FieldProblem, InvalidInput


class Medium(StrEnum):
    CALL = "call"  # 来电
    MESSAGE = "message"  # 网上留言


class Outcome(StrEnum):
    ANSWERED = "answered"  # a consultation answered from the knowledge base, closed on the spot
    CASE = "case"  # became a case
    REPEAT = "repeat"  # the same caller about a problem already open: linked to that case


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


def caller_key(phone: str | None) -> str | None:
    """The key repeat calls are linked by: a hash of the phone's digits, so the link needs no
    index on the phone itself (the phone is kept only for the callback)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 5:
        return None
    return hashlib.sha256(f"onegrid-caller:{digits[-11:]}".encode()).hexdigest()


_DURATION = re.compile(r"^\s*(\d+)\s*(min|h|d)\s*$")
_UNITS = {"min": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str, where: str) -> timedelta:
    match = _DURATION.match(str(text))
    if not match:
        raise InvalidInput.one(where, "duration", f"{text!r} is not a duration like 30min, 2h, 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class LimitClass:
    name: str
    feedback: timedelta  # the unit reports back within it (natural time)
    response: timedelta  # the unit contacts the requester within it


@dataclass(frozen=True)
class ClassRule:
    limit_class: str
    urgency: frozenset[str] = frozenset()
    categories: tuple[str, ...] = ()
    natures: frozenset[str] = frozenset()

    def matches(self, urgency: str, category_code: str, nature: str) -> bool:
        return (
            urgency in self.urgency
            or any(category_code.startswith(p) for p in self.categories)
            or nature in self.natures
        )


@dataclass(frozen=True)
class HotlineRules:
    """Feedback limits by nature and subject, and how the satisfaction rate weighs answers."""

    version: str
    classes: Mapping[str, LimitClass]
    rules: Sequence[ClassRule]
    default: str
    basically_satisfied_weight: float

    def limit_class(
        self, urgency: str, category_code: str, nature: str, *, complex_: bool = False
    ) -> LimitClass:
        """The class a problem falls in: ``complex`` when the operator says so, else the first
        matching rule, else the default."""
        if complex_ and "complex" in self.classes:
            return self.classes["complex"]
        for rule in self.rules:
            if rule.matches(urgency, category_code, nature):
                return self.classes[rule.limit_class]
        return self.classes[self.default]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HotlineRules:
        classes = {
            name: LimitClass(
                name,
                parse_duration(spec["feedback"], f"classes.{name}.feedback"),
                parse_duration(spec["response"], f"classes.{name}.response"),
            )
            for name, spec in dict(data.get("classes") or {}).items()
        }
        problems: list[FieldProblem] = []
        rules = []
        for i, r in enumerate(data.get("rules") or []):
            if r.get("class") not in classes:
                problems.append(
                    FieldProblem(f"rules[{i}].class", "known_class", f"no class {r.get('class')!r}")
                )
                continue
            rules.append(
                ClassRule(
                    r["class"],
                    frozenset(r.get("urgency") or ()),
                    tuple(r.get("category") or ()),
                    frozenset(r.get("nature") or ()),
                )
            )
        default = str(data.get("default", "general"))
        if default not in classes:
            problems.append(FieldProblem("default", "known_class", f"no class {default!r}"))
        weight = float(data.get("basically_satisfied_weight", 1.0))
        if not 0.0 <= weight <= 1.0:
            problems.append(
                FieldProblem("basically_satisfied_weight", "range", "a weight from 0 to 1")
            )
        if problems:
            raise InvalidInput(problems)
        return cls(str(data.get("version", "")), classes, tuple(rules), default, weight)
