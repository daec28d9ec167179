"""The masking of what callers said, as corrections keep it and show it: numbers in digits or
read out in Chinese, and e-mail addresses; idempotent, and ordinary words untouched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onegrid.dispatch.classifier.features import mask_digits, mask_personal, normalise


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("电话一三八一二三四五六七八", "电话0"),
        ("回电幺三九零零零零幺幺幺幺谢谢", "回电0谢谢"),
        ("门牌两零一九号", "门牌0号"),
        ("138一二三四5678", "0"),
        ("电话 138 1234 5678", "电话 0 0 0"),
        ("邮箱 wang.li+x@qq.com 或 ｗａｎｇ＠ｑｑ．ｃｏｍ。", "邮箱 [email] 或 [email]。"),
        ("write to a.b-c@mail.example.org, thanks", "write to [email], thanks"),
        ("①@x.cn", "[email]"),
    ],
)
def test_numbers_and_addresses_are_masked(said: str, kept: str) -> None:
    assert mask_personal(said) == kept


@pytest.mark.parametrize(
    "said",
    ["两个人一个月没人管", "一二三个井盖", "三四十米", "第一个路口", "lamp@ night", "a@b"],
)
def test_ordinary_words_are_kept(said: str) -> None:
    assert mask_personal(said) == said


_SAID = st.text(
    alphabet=st.sampled_from(list("0１①⒈9ab.@＠．-_[]e 一二三四五六七八九〇零幺两个路")),
    max_size=40,
)


@given(_SAID)
def test_masking_twice_changes_nothing(text: str) -> None:
    assert mask_personal(mask_personal(text)) == mask_personal(text)


@given(st.text())
def test_masking_twice_changes_nothing_for_any_text(text: str) -> None:
    assert mask_personal(mask_personal(text)) == mask_personal(text)


@given(st.text(alphabet=st.characters(exclude_characters="@＠〇零一二三四五六七八九幺两")))
def test_without_addresses_or_chinese_numbers_it_trains_as_the_text(text: str) -> None:
    assert mask_personal(text) == mask_digits(text)
    assert normalise(mask_personal(text)) == normalise(text)
