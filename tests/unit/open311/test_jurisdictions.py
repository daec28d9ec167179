"""Which jurisdiction a call is scoped to, and what counts as HTML in a description."""

from __future__ import annotations

import pytest

from onegrid.api.open311.errors import Open311Error
from onegrid.api.open311.params import Jurisdiction, check_jurisdiction
from onegrid.api.open311.posting import MARKUP
from onegrid.core.settings import Settings

SHARED = Settings(open311_jurisdictions=(("core.gov.cn", "110101"), ("suburb.gov.cn", "110112")))


def status(params: dict[str, str], settings: Settings, required: bool = True) -> int:
    with pytest.raises(Open311Error) as exc:
        check_jurisdiction(params, settings, required=required)
    return exc.value.status


def test_one_jurisdiction_is_optional_and_scopes_nothing() -> None:
    default = Settings(city_code="110000")
    for params in ({}, {"jurisdiction_id": ""}, {"jurisdiction_id": " 110000 "}):
        assert check_jurisdiction(params, default) is None
    assert status({"jurisdiction_id": "sfgov.org"}, default) == 404
    named = Settings(open311_jurisdictions={"beijing.gov.cn": "110000"})
    assert check_jurisdiction({"jurisdiction_id": "beijing.gov.cn"}, named) is None
    assert status({"jurisdiction_id": "110000"}, named) == 404


def test_a_shared_server_needs_a_known_jurisdiction() -> None:
    got = check_jurisdiction({"jurisdiction_id": "suburb.gov.cn"}, SHARED)
    assert got == Jurisdiction("suburb.gov.cn", "110112")
    assert status({}, SHARED) == status({"jurisdiction_id": " "}, SHARED) == 400
    assert status({"jurisdiction_id": "sfgov.org"}, SHARED) == 404
    assert status({"jurisdiction_id": "sfgov.org"}, SHARED, required=False) == 404
    assert check_jurisdiction({}, SHARED, required=False) is None


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "a <b>bold</b> word",
        "</p>",
        "<br/>",
        "<!-- note -->",
        "<!DOCTYPE html>",
        "<?xml version='1.0'?>",
        "<a\nhref='x'>",
    ],
)
def test_markup_is_found(text: str) -> None:
    assert MARKUP.search(text)


@pytest.mark.parametrize(
    "text",
    ["温度 < 5 度", "温度<5度", "a < b > c", "<标题>", "<5 m and >2 m", "1<2", "<", "x <- y", "<>"],
)
def test_a_less_than_sign_in_plain_text_is_not_markup(text: str) -> None:
    assert not MARKUP.search(text)
