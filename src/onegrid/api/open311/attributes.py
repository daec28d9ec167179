"""The extra questions of a service definition (OPEN311.md 1.4), one of every datatype.

Every service asks the same optional questions; a component class also requires the ID on
the component's plate. Answers are checked here, before anything is written, so a bad answer
is a 400 and no case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onegrid.api.open311.params import decimal
from onegrid.assets.domain import Category, Kind
from onegrid.cases.domain.states import Nature

LISTS = ("singlevaluelist", "multivaluelist")
_NATURE_NAMES: dict[Nature, str] = {
    Nature.CONSULTATION: "咨询 consultation",
    Nature.HELP: "求助 help",
    Nature.COMPLAINT: "投诉 complaint",
    Nature.REPORT: "举报 report",
    Nature.SUGGESTION: "建议 suggestion",
    Nature.THANKS: "感谢 thanks",
}
EXTENT_MAX = 1_000_000.0
DETAILS_MAX = 1000


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    description: str
    order: int
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list types

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
        }
        if self.datatype in LISTS:
            out["values"] = [{"key": k, "name": n} for k, n in self.values]
        return out


NATURE = Attribute(
    code="nature",
    datatype="singlevaluelist",
    required=False,
    description="What do you want: 您的诉求是? (default: report)",
    order=1,
    values=tuple((n.value, _NATURE_NAMES[n]) for n in Nature),
)
COMPONENT_ID = Attribute(
    code="component_id",
    datatype="string",
    required=True,
    description="The 16-digit ID on the component's plate (部件编码)",
    order=2,
    datatype_description="16 digits, e.g. 1101010101000001",
)
HAZARDS = Attribute(
    code="hazards",
    datatype="multivaluelist",
    required=False,
    description="Is anyone at risk? 是否有安全隐患 (choose any)",
    order=3,
    values=(
        ("traffic", "阻碍交通 blocks traffic"),
        ("pedestrians", "危及行人 endangers pedestrians"),
        ("children", "靠近学校 near a school or playground"),
        ("water", "漏水积水 water leaking or pooling"),
        ("fire", "火灾隐患 fire risk"),
    ),
)
OBSERVED_AT = Attribute(
    code="observed_at",
    datatype="datetime",
    required=False,
    description="When did you see it? 发现时间",
    order=4,
    datatype_description="ISO 8601 with a time zone, e.g. 2026-03-02T08:15:00+08:00",
)
EXTENT = Attribute(
    code="extent",
    datatype="number",
    required=False,
    description="Roughly how big: square metres or number of items 大致面积或数量",
    order=5,
    datatype_description=f"a number from 0 to {EXTENT_MAX:,.0f}",
)
DETAILS = Attribute(
    code="details",
    datatype="text",
    required=False,
    description="Anything else the crew should know 其他情况",
    order=6,
    datatype_description=f"at most {DETAILS_MAX} characters",
)
_COMMON = (NATURE, HAZARDS, OBSERVED_AT, EXTENT, DETAILS)


def attributes_of(category: Category) -> tuple[Attribute, ...]:
    common = (NATURE, COMPONENT_ID, *_COMMON[1:]) if category.kind is Kind.COMPONENT else _COMMON
    return tuple(sorted(common, key=lambda a: a.order))


def _list_problem(attr: Attribute, value: str, now: datetime) -> str | None:
    keys = [k for k, _ in attr.values]
    if value in keys:
        return None
    return f"attribute[{attr.code}]: {value[:50]!r} is not one of {', '.join(keys)}"


def _number_problem(attr: Attribute, value: str, now: datetime) -> str | None:
    number = decimal(value)
    if number is not None and 0 <= number <= EXTENT_MAX:
        return None
    return f"attribute[{attr.code}] is {attr.datatype_description}"


def _datetime_problem(attr: Attribute, value: str, now: datetime) -> str | None:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"attribute[{attr.code}]: {value[:50]!r} is not an ISO 8601 datetime"
    if when.tzinfo is None:
        return f"attribute[{attr.code}] needs a time zone (Z or ±HH:MM)"
    return f"attribute[{attr.code}] lies in the future" if when > now else None


def _text_problem(attr: Attribute, value: str, now: datetime) -> str | None:
    if len(value) <= DETAILS_MAX:
        return None
    return f"attribute[{attr.code}] is at most {DETAILS_MAX} characters"


def _string_problem(attr: Attribute, value: str, now: datetime) -> str | None:
    if "\n" not in value and len(value) <= 200:
        return None
    return f"attribute[{attr.code}] is one line of at most 200 characters"


_CHECKS: dict[str, Callable[[Attribute, str, datetime], str | None]] = {
    "singlevaluelist": _list_problem,
    "multivaluelist": _list_problem,
    "number": _number_problem,
    "datetime": _datetime_problem,
    "text": _text_problem,
    "string": _string_problem,
}


def _problem(attr: Attribute, value: str, now: datetime) -> str | None:
    """What is wrong with one value of ``attr``, or None."""
    return _CHECKS[attr.datatype](attr, value, now)


def check_attributes(
    category: Category, given: Mapping[str, Sequence[str]], now: datetime
) -> tuple[dict[str, str], list[str]]:
    """The answers by attribute code, and a description per broken rule. An empty optional
    value counts as absent (OPEN311.md 1.1 and 3.5); unknown codes are ignored."""
    answers: dict[str, str] = {}
    problems: list[str] = []
    for attr in attributes_of(category):
        values = [v.strip() for v in given.get(attr.code, ()) if v.strip()]
        if not values:
            if attr.required:
                problems.append(f"attribute[{attr.code}] is required for {category.code}")
            continue
        if attr.datatype != "multivaluelist" and len(values) > 1:
            problems.append(f"attribute[{attr.code}] takes one value")
            continue
        found = next((p for p in (_problem(attr, v, now) for v in values) if p), None)
        if found:
            problems.append(found)
            continue
        answers[attr.code] = ",".join(dict.fromkeys(values))
    return answers, problems


_BY_CODE = {a.code: a for a in (NATURE, COMPONENT_ID, *_COMMON)}


def answered(answers: Mapping[str, str]) -> list[dict[str, Any]]:
    """The submitted answers as Chicago's ``attributes`` [{label, name, value, code}]."""
    out: list[dict[str, Any]] = []
    for attr in sorted(_BY_CODE.values(), key=lambda a: a.order):
        if attr.code not in answers:
            continue
        names = dict(attr.values)
        value = answers[attr.code]
        name = ", ".join(names.get(v, v) for v in value.split(",")) if attr.values else value
        out.append({"label": attr.description, "name": name, "value": value, "code": attr.code})
    return out
