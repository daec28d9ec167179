from __future__ import annotations

from typing import Any

import pytest
import yaml

from onegrid.core.errors import InvalidInput
from onegrid.sensing.domain.rules import RuleKind, parse_duration, parse_rules, rule_to_spec
from onegrid.sensing.settings import DATA


def test_the_shipped_rules_parse_and_round_trip() -> None:
    specs = yaml.safe_load((DATA / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    rules = parse_rules(specs)
    assert {r.kind for r in rules} == set(RuleKind)
    assert parse_rules([rule_to_spec(r) for r in rules]) == rules
    pm = next(r for r in rules if r.code == "aq.pm25.high")
    assert (pm.above, pm.hold_s, pm.quantity) == (75.0, 7200.0, "pm2_5")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        ("90s", 90.0),
        ("15 min", 900.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("0.5h", 1800.0),
    ],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("spec", "field", "rule"),
    [
        ({"code": "Bad Code", "kind": "silent", "intervals": 3}, "rules[0].code", "rule_code"),
        ({"code": "x", "kind": "sometimes"}, "rules[0].kind", "rule_kind"),
        ({"code": "x", "kind": "threshold", "quantity": "pm2_5"}, "rules[0].above", "one_of"),
        (
            {"code": "x", "kind": "threshold", "quantity": "pm9", "above": 1},
            "rules[0].quantity",
            "known_quantity",
        ),
        (
            {"code": "x", "kind": "threshold", "quantity": "pm2_5", "above": 75, "for": "soon"},
            "rules[0].for",
            "duration",
        ),
        (
            {"code": "x", "kind": "threshold", "quantity": "pm2_5", "above": 75, "clear_at": 80},
            "rules[0].clear_at",
            "hysteresis",
        ),
        (
            {"code": "x", "kind": "state_change", "quantity": "cover_open"},
            "rules[0].to",
            "required",
        ),
        (
            {"code": "x", "kind": "rate_of_change", "quantity": "water_level", "rise": 0.1},
            "rules[0].within",
            "required",
        ),
        ({"code": "x", "kind": "silent", "intervals": 0.5}, "rules[0].intervals", "min"),
        (
            {"code": "x", "kind": "area", "of": "y", "level": "planet", "min_devices": 2},
            "rules[0].level",
            "area_level",
        ),
        (
            {"code": "x", "kind": "silent", "intervals": 3, "category": "X99"},
            "rules[0].category",
            "category_code",
        ),
        (
            {"code": "x", "kind": "silent", "intervals": 3, "urgency": "asap"},
            "rules[0].urgency",
            "urgency",
        ),
    ],
)
def test_each_broken_field_is_named(spec: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rules([spec])
    assert (field, rule) in [(p.field, p.rule) for p in caught.value.problems]


def test_area_rules_must_combine_a_device_rule_and_codes_are_unique() -> None:
    silent = {"code": "s", "kind": "silent", "intervals": 3}
    with pytest.raises(InvalidInput) as caught:
        parse_rules(
            [
                silent,
                silent,
                {"code": "a", "kind": "area", "of": "nope", "level": "district", "min_devices": 1},
            ]
        )
    rules = {p.rule for p in caught.value.problems}
    assert rules == {"unique_code", "known_rule"}
