from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from onegrid.dispatch.classifier import compose, normalise
from onegrid.dispatch.classifier.features import mask_digits


def test_normalise_folds_width_case_space_and_numbers() -> None:
    assert normalise("  ＡＢＣ 路灯\t\n坏了  Street   Light ") == "abc 路灯 坏了 street light"
    assert normalise("人民路１２号 call 12345 on 2026-11-22") == "人民路0号 call 0 on 0-0-0"


def test_normalise_of_whitespace_only_is_empty() -> None:
    assert normalise("\t\n \u3000 ") == ""


def test_compose_repeats_the_title() -> None:
    assert compose("井盖缺失", "人民路有个井盖没了", title_weight=3) == (
        "井盖缺失 井盖缺失 井盖缺失 人民路有个井盖没了"
    )


def test_compose_without_title_or_body() -> None:
    assert compose("", "only a body", title_weight=5) == "only a body"
    assert compose("only a title", "", title_weight=1) == "only a title"


def test_masked_digits_are_gone_and_train_as_the_text() -> None:
    said = "请回电 138 1234 5678 或１３９００００１１１１，人民路12号⒈楼 ①单元"
    masked = mask_digits(said)
    assert masked == "请回电 0 0 0 或0，人民路0号0.楼 0单元"
    assert not any(unicodedata.normalize("NFKC", ch).isdigit() and ch != "0" for ch in masked)
    assert normalise(masked) == normalise(said)


@given(st.text())
def test_masking_changes_nothing_the_classifier_reads(text: str) -> None:
    assert normalise(mask_digits(text)) == normalise(text)
    assert mask_digits(mask_digits(text)) == mask_digits(text)
