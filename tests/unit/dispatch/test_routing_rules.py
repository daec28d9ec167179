"""A unit chosen by a person is explained against the rules' suggestion."""

from __future__ import annotations

from onegrid.dispatch.routing.domain import Route, RouteRule, chosen, district_government


def test_choosing_the_suggested_unit_keeps_the_rule() -> None:
    rule = Route("sanitation", RouteRule.DUTY_OWNER, "rule #3", 3)
    assert chosen("sanitation", "op", rule) is rule


def test_choosing_another_unit_says_who_and_what_the_rules_said() -> None:
    route = chosen("roads", "user:7", Route("sanitation", RouteRule.DUTY_OWNER, "rule #3", 3))
    assert route.rule is RouteRule.CHOSEN and route.department_code == "roads"
    assert "user:7" in route.explanation and "sanitation (rule #3)" in route.explanation
    assert "no rule" in chosen("roads", "op", None).explanation


def test_district_government_code() -> None:
    assert district_government("110105") == "110105ZF"
