from __future__ import annotations

from datetime import date

import pytest

from onegrid.cases.domain.numbering import CaseNumber, format_number, parse_number


def test_numbers_read_back_and_widen_past_four_digits() -> None:
    assert format_number("E0102", date(2026, 3, 2), 7) == "E0102202603020007"
    assert format_number("C0101", date(2026, 3, 2), 12345) == "C01012026030212345"
    assert parse_number("C01012026030212345") == CaseNumber("C0101", date(2026, 3, 2), 12345)
    assert parse_number("E0102202603020007") == CaseNumber("E0102", date(2026, 3, 2), 7)


@pytest.mark.parametrize(
    "text", ["X0102202603020007", "E0102202613020007", "E010220260302007", "E0102202603020000", ""]
)
def test_malformed_numbers_are_not_parsed(text: str) -> None:
    assert parse_number(text) is None


def test_sequences_start_at_one() -> None:
    with pytest.raises(ValueError):
        format_number("E0102", date(2026, 3, 2), 0)
