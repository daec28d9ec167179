"""The three rates' formulas (DOMAIN.md section 6)."""

from __future__ import annotations

import pytest

from onegrid.dispatch.hotline.rates import UnitFacts, rates_of


def test_the_formulas() -> None:
    facts = UnitFacts(
        "u",
        dispatched=10,
        responded_in_time=9,
        callbacks=8,
        resolved=6,
        satisfied=4,
        basically_satisfied=2,
    )
    r = rates_of(facts, basically_satisfied_weight=0.5)
    assert r.response_rate == pytest.approx(0.9)
    assert r.resolution_rate == pytest.approx(0.75)
    assert r.satisfaction_rate == pytest.approx((4 + 0.5 * 2) / 8)
    assert rates_of(facts, 1.0).satisfaction_rate == pytest.approx(6 / 8)


def test_no_denominator_is_no_data_not_zero() -> None:
    r = rates_of(UnitFacts("u", dispatched=3, responded_in_time=0), 0.8)
    assert r.response_rate == 0.0
    assert (r.resolution_rate, r.satisfaction_rate) == (None, None)
    assert rates_of(UnitFacts("u"), 0.8).response_rate is None
