from __future__ import annotations

import math

import pytest

from onegrid.cases.domain.intake import NewCase, Reporter, check_new_case
from onegrid.cases.domain.states import Channel, Status, initial_status
from onegrid.core.errors import InvalidInput


def _new(**kw: object) -> NewCase:
    base: dict[str, object] = dict(
        category_code="E0102",
        channel=Channel.WEB_APP,
        description="垃圾堆在路边",
        lon=116.3,
        lat=39.9,
    )
    base.update(kw)
    return NewCase(**base)  # type: ignore[arg-type]


def test_every_broken_rule_is_reported_at_once() -> None:
    bad = _new(
        description="  ",
        lon=math.nan,
        lat=91.0,
        reporter=Reporter(phone="call me", email="nobody"),
        tags=["ok", "no spaces!"],
    )
    with pytest.raises(InvalidInput) as caught:
        check_new_case(bad, component_case=False)
    found = {(p.field, p.rule) for p in caught.value.problems}
    assert found == {
        ("description", "required"),
        ("lon", "longitude"),
        ("lat", "latitude"),
        ("reporter.phone", "phone_format"),
        ("reporter.email", "email_format"),
        ("tags", "tag_format"),
    }


def test_component_classes_need_a_matching_component() -> None:
    with pytest.raises(InvalidInput, match="component class"):
        check_new_case(_new(category_code="C0101"), component_case=True)
    with pytest.raises(InvalidInput, match="class digits"):
        check_new_case(
            _new(category_code="C0101", component_id="1101010102000001"), component_case=True
        )
    ok = check_new_case(
        _new(category_code="C0101", component_id="1101010101000001"), component_case=True
    )
    assert ok.component_id == "1101010101000001"
    with pytest.raises(InvalidInput, match="event class"):
        check_new_case(_new(component_id="1101010101000001"), component_case=False)


def test_text_is_trimmed_and_tags_deduplicated() -> None:
    ok = check_new_case(_new(description="  x  ", tags=["a", "a", " b "]), component_case=False)
    assert ok.description == "x" and ok.tags == ("a", "b")


@pytest.mark.parametrize(
    ("channel", "verify", "status"),
    [
        (Channel.WEB_APP, None, Status.TO_VERIFY),
        (Channel.HOTLINE, None, Status.TO_VERIFY),
        (Channel.INSPECTOR, None, Status.TO_FILE),
        (Channel.SENSOR, None, Status.TO_FILE),
        (Channel.WEB_APP, False, Status.TO_FILE),
        (Channel.INSPECTOR, True, Status.TO_VERIFY),
    ],
)
def test_public_reports_are_verified_first(
    channel: Channel, verify: bool | None, status: Status
) -> None:
    assert initial_status(channel, verify_first=verify) is status


def test_an_address_id_is_trimmed_plain_text_of_the_registers_length() -> None:
    assert check_new_case(_new(address_id=" 110101-0001 "), component_case=False).address_id == (
        "110101-0001"
    )
    assert check_new_case(_new(address_id="  "), component_case=False).address_id is None
    assert check_new_case(_new(address_id="a" * 64), component_case=False).address_id == "a" * 64
    for bad, rule in (("a" * 65, "max_length"), ("110101\x00", "control_character")):
        with pytest.raises(InvalidInput) as caught:
            check_new_case(_new(address_id=bad), component_case=False)
        assert [(p.field, p.rule) for p in caught.value.problems] == [("address_id", rule)]
