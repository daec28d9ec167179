"""Feedback limits by nature and subject, callers' keys, the rule file's checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.config import hotline_rules
from onegrid.dispatch.hotline.domain import HotlineRules, caller_key, parse_duration


@pytest.mark.parametrize(
    ("urgency", "category", "nature", "complex_", "expected", "feedback"),
    [
        ("critical", "E0108", "complaint", False, "emergency", timedelta(hours=2)),
        ("high", "E0402", "report", False, "emergency", timedelta(hours=2)),
        ("normal", "E0601", "complaint", False, "utilities", timedelta(hours=24)),
        ("normal", "C0104", "help", False, "utilities", timedelta(hours=24)),
        ("normal", "E0102", "complaint", False, "general", timedelta(days=7)),
        ("normal", "E0102", "complaint", True, "complex", timedelta(days=15)),
        ("critical", "E0402", "complaint", True, "complex", timedelta(days=15)),
    ],
)
def test_shipped_limits(
    urgency: str, category: str, nature: str, complex_: bool, expected: str, feedback: timedelta
) -> None:
    found = hotline_rules().limit_class(urgency, category, nature, complex_=complex_)
    assert (found.name, found.feedback) == (expected, feedback)


def test_rules_match_natures_and_refuse_unknown_classes() -> None:
    data = {
        "classes": {
            "fast": {"feedback": "3h", "response": "15min"},
            "slow": {"feedback": "9d", "response": "1d"},
        },
        "rules": [{"class": "fast", "nature": ["help"]}],
        "default": "slow",
    }
    rules = HotlineRules.from_dict(data)
    assert rules.limit_class("low", "E0102", "help").response == timedelta(minutes=15)
    assert rules.limit_class("low", "E0102", "complaint").name == "slow"
    with pytest.raises(InvalidInput) as caught:
        HotlineRules.from_dict(
            {
                **data,
                "rules": [{"class": "nope"}],
                "default": "gone",
                "basically_satisfied_weight": 2,
            }
        )
    assert {p.rule for p in caught.value.problems} == {"known_class", "range"}
    with pytest.raises(InvalidInput):
        parse_duration("two hours", "x")


def test_caller_keys_ignore_formatting_but_not_the_number() -> None:
    assert caller_key("139 0000-1111") == caller_key("+86 13900001111")
    assert caller_key("13900001111") != caller_key("13900001112")
    assert caller_key(None) is None and caller_key("12") is None
