"""Time limits: precedence of rules, versions by date, region classes, and bad documents."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from onegrid.cases.config import case_rules
from onegrid.cases.domain.timelimits import (
    Limit,
    LimitUnit,
    TimeLimitBook,
    build_time_limit_book,
)
from onegrid.core.errors import InvalidInput

WH, WD, NH = LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS, LimitUnit.NATURAL_HOURS


def _doc(**extra: Any) -> dict[str, Any]:
    return {
        "max_extensions": 1,
        "region_classes": {"default": "core", "areas": {"110112": "suburban", "110112001": "core"}},
        "versions": [
            {
                "version": "v1",
                "valid_from": "2025-01-01",
                "defaults": {
                    "dispatch": "1 working_hours",
                    "handle": "3 working_days",
                    "check": {"amount": 4, "unit": "working_hours"},
                },
                "rules": [
                    {"urgency": "critical", "handle": "2 natural_hours"},
                    {"category": "E01", "handle": "1 working_days"},
                    {"category": "E0102", "handle": "4 working_hours"},
                    {"region": "suburban", "handle": "5 working_days", "check": "1 working_days"},
                ],
            },
            {
                "version": "v2",
                "valid_from": "2026-11-01",
                "defaults": {
                    "dispatch": "1 working_hours",
                    "handle": "2 working_days",
                    "check": "2 working_hours",
                },
            },
        ],
        **extra,
    }


@pytest.fixture
def book() -> TimeLimitBook:
    return build_time_limit_book(_doc())


def test_the_most_specific_rule_wins_step_by_step(book: TimeLimitBook) -> None:
    limits = book.limits("v1", "E0102", "normal", "suburban")
    assert limits.handle == Limit(4, WH)  # the longest prefix beats the region rule
    assert limits.check == Limit(1, WD)  # no category rule sets check: the region rule does
    assert limits.dispatch == Limit(1, WH)  # nothing sets dispatch: the default
    assert book.limits("v1", "E0199", "normal", "core").handle == Limit(1, WD)
    assert book.limits("v1", "C0101", "normal", "core").handle == Limit(3, WD)


def test_an_emergency_runs_on_natural_hours_whatever_its_class(book: TimeLimitBook) -> None:
    limits = book.limits("v1", "E0102", "critical", "core")
    assert limits.handle == Limit(2, NH) and limits.handle.natural


def test_versions_by_day_and_by_label(book: TimeLimitBook) -> None:
    assert book.version_on(date(2026, 10, 31)).version == "v1"
    assert book.version_on(date(2026, 11, 1)).version == "v2"
    assert book.limits("v2", "E0102", "normal", "core").handle == Limit(2, WD)
    with pytest.raises(InvalidInput, match="no time limits were in force"):
        book.version_on(date(2024, 12, 31))
    with pytest.raises(InvalidInput, match="unknown time-limit version"):
        book.limits("v9", "E0102", "normal", "core")


def test_region_class_of_the_finest_listed_area(book: TimeLimitBook) -> None:
    assert book.region_class(("110000", "110112", "110112002")) == "suburban"
    assert book.region_class(("110000", "110112", "110112001", "110112001001")) == "core"
    assert book.region_class(("110000", "110101")) == "core"


def test_a_bad_document_names_every_problem() -> None:
    doc = _doc(max_extensions=-1)
    doc["versions"][0]["defaults"] = {"dispatch": "0 working_hours", "handle": "3 fortnights"}
    doc["versions"][0]["rules"].append({"category": "E01", "urgency": "urgent"})
    with pytest.raises(InvalidInput) as caught:
        build_time_limit_book(doc)
    rules = {p.rule for p in caught.value.problems}
    assert {
        "limit_amount",
        "limit_unit",
        "defaults_complete",
        "known_urgency",
        "rule_sets_a_step",
        "non_negative_int",
    } <= rules


def test_the_shipped_limits_follow_the_domain_notes() -> None:
    book = case_rules().limits
    v = book.version_on(date(2026, 3, 2)).version
    assert book.limits(v, "E0102", "normal", "core").handle == Limit(4, WH)  # exposed rubbish
    assert book.limits(v, "E0104", "normal", "core").handle == Limit(2, WH)  # dirty road
    assert book.limits(v, "E0101", "normal", "suburban").handle == Limit(20, WD)
    assert book.limits(v, "E0401", "critical", "core").handle.natural
    assert book.limits(v, "E0602", "high", "core").handle == Limit(24, NH)
    assert book.region_class(("110000", "110112")) == "suburban"
