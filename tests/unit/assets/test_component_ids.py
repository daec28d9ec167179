"""Component IDs: 6 admin + 2 major + 2 minor + 6 sequence, checked row by row in imports."""

from __future__ import annotations

import pytest

from onegrid.assets.domain import (
    ComponentId,
    admin_code_problem,
    allocate_ids,
    class_mismatch_problem,
    component_id_problem,
    is_admin_code,
    parse_component_id,
)
from onegrid.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3205080101000001", ComponentId("320508", "01", "01", 1)),
        ("1101010219999999", ComponentId("110101", "02", "19", 999_999)),
        (" 1101010403000042 ", ComponentId("110101", "04", "03", 42)),
    ],
)
def test_good_ids_parse(text: str, expected: ComponentId) -> None:
    parsed = parse_component_id(text)
    assert parsed == expected
    assert str(parsed) == text.strip()
    assert parsed.class_code == f"C{expected.major}{expected.minor}"
    assert parsed.prefix == text.strip()[:10]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "16 digits"),
        ("320508010100001", "16 digits"),  # 15 digits
        ("32050801010000011", "16 digits"),  # 17 digits
        ("32050801010000a1", "16 digits"),
        ("３２０５０８０１０１０００００１", "16 digits"),  # full-width digits are not ASCII
        ("3205080101000000", "sequence 000000"),
    ],
)
def test_bad_ids_are_refused_with_the_reason(text: str, why: str) -> None:
    problem = component_id_problem(text)
    assert problem is not None and why in problem
    with pytest.raises(InvalidInput) as exc:
        parse_component_id(text)
    assert exc.value.problems[0].field == "id"
    assert exc.value.problems[0].rule == "id_format"


@pytest.mark.parametrize(
    ("cid", "class_code", "ok"),
    [
        ("3205080101000001", "C0101", True),
        ("3205080101000001", "C0102", False),
        ("3205080101000001", "C0201", False),
        ("3205080419000001", "C0419", True),
    ],
)
def test_class_digits_must_match_the_class(cid: str, class_code: str, ok: bool) -> None:
    problem = class_mismatch_problem(cid, class_code)
    assert (problem is None) == ok
    if problem:
        assert class_code in problem and cid in problem


@pytest.mark.parametrize(
    ("admin", "district", "ok"),
    [
        ("110101", "110101", True),
        ("110102", "110101", False),  # the point lies in another district
        ("110101", "D01", True),  # a test city: district codes are not admin codes
        ("110101", None, True),  # the city has no districts loaded
        ("110101", "1101011", True),  # 7 digits: not an admin code, nothing to compare
    ],
)
def test_admin_code_is_compared_only_with_admin_districts(
    admin: str, district: str | None, ok: bool
) -> None:
    assert (admin_code_problem(admin, district) is None) == ok


@pytest.mark.parametrize(
    ("code", "ok"),
    [("110101", True), ("11010", False), ("11010a", False), ("", False), (None, False)],
)
def test_is_admin_code(code: str | None, ok: bool) -> None:
    assert is_admin_code(code) is ok


def test_allocation_continues_after_the_last_sequence() -> None:
    assert allocate_ids("1101010101", 41, 3) == [
        "1101010101000042",
        "1101010101000043",
        "1101010101000044",
    ]


def test_allocation_refuses_past_the_last_sequence() -> None:
    assert allocate_ids("1101010101", 999_998, 1) == ["1101010101999999"]
    with pytest.raises(InvalidInput) as exc:
        allocate_ids("1101010101", 999_998, 2)
    assert exc.value.problems[0].rule == "sequence_exhausted"
