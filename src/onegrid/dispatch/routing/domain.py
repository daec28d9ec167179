"""Routing decisions in plain Python: a route names the unit and the rule that chose it.

Precedence (DOMAIN.md sections 3 and 6):
1. for a component case, the component's maintainer, else its owner, when that is a known unit;
2. the duty rules of the grid context (owner rules, then the territorial unit; see
   ``onegrid.grid.responsibility``);
3. when nothing matches, the district government of the place (兜底: ``<district code>ZF``).
An operator or dispatcher may choose another unit; the route then says so and keeps the
suggestion beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DISTRICT_GOVERNMENT_SUFFIX = "ZF"


class RouteRule(StrEnum):
    COMPONENT_MAINTAINER = "component_maintainer"
    COMPONENT_OWNER = "component_owner"
    DUTY_OWNER = "duty_owner"  # a duty rule of kind owner (the dispatch catalogue)
    TERRITORIAL = "territorial"  # a duty rule of kind territorial (属地)
    DISTRICT_FALLBACK = "district_fallback"  # the district government (兜底)
    CHOSEN = "chosen"  # an operator or dispatcher chose another unit


@dataclass(frozen=True)
class Route:
    department_code: str
    rule: RouteRule
    explanation: str
    rule_id: int | None = None


def district_government(district_code: str) -> str:
    return f"{district_code}{DISTRICT_GOVERNMENT_SUFFIX}"


def chosen(department_code: str, by: str, suggested: Route | None) -> Route:
    """The unit a person chose, explained against what the rules suggested."""
    if suggested is not None and suggested.department_code == department_code:
        return suggested
    why = f"{department_code} chosen by {by}"
    if suggested is not None:
        why += f"; the rules suggested {suggested.department_code} ({suggested.explanation})"
    else:
        why += "; no rule named a unit"
    return Route(department_code, RouteRule.CHOSEN, why)
