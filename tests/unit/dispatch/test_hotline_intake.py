"""The desk's draft rules for saying where: a point, or a standard address's id, not both."""

from __future__ import annotations

import pytest

from onegrid.cases.domain.states import Nature
from onegrid.core.errors import InvalidInput
from onegrid.dispatch.hotline.intake import CallDraft, check_draft, needs_case_fields, placed_at

ID = "110101001001-0001"


def _draft(**kw: object) -> CallDraft:
    values: dict[str, object] = {
        "nature": Nature.COMPLAINT,
        "text": "门口垃圾",
        "category_code": "E0102",
    }
    return CallDraft(**(values | kw))  # type: ignore[arg-type]


def test_an_address_id_is_trimmed_and_a_blank_one_is_none() -> None:
    assert check_draft(_draft(address_id=f"  {ID} ")).address_id == ID
    assert check_draft(_draft(address_id="   ")).address_id is None


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"address_id": ID, "lon": 116.3, "lat": 39.9}, "one_place"),
        ({"address_id": ID, "lat": 39.9}, "one_place"),
        ({"address_id": "x" * 65}, "max_length"),
        ({"address_id": f"{ID}\x00"}, "control_character"),
    ],
)
def test_a_bad_address_id_is_named(changes: dict[str, object], rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_draft(_draft(**changes))
    assert ("address_id", rule) in [(p.field, p.rule) for p in refused.value.problems]


def test_a_registered_address_places_the_call_and_fills_an_empty_address() -> None:
    draft = check_draft(_draft(address_id=ID))
    with pytest.raises(InvalidInput) as unplaced:
        needs_case_fields(draft)
    assert [(p.field, p.rule) for p in unplaced.value.problems] == [("lon", "required")]
    placed = placed_at(draft, 116.305, 39.91, "示范路12号")
    needs_case_fields(placed)
    assert (placed.lon, placed.lat, placed.address, placed.address_id) == (
        116.305, 39.91, "示范路12号", ID,
    )  # fmt: skip
    assert placed_at(_draft(address="东门外"), 116.305, 39.91, "示范路12号").address == "东门外"
