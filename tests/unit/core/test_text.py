"""Which characters a text field refuses: C0 controls but tab and line breaks, and surrogates."""

from __future__ import annotations

import pytest

from onegrid.core.text import CONTROL_RULE, control_problems, refused_character


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("路灯不亮\x00", "U+0000"),
        ("bell\x07", "U+0007"),
        ("escape \x1b[31m", "U+001B"),
        ("form\x0cfeed", "U+000C"),
        ("垃圾\ud800", "U+D800"),
        ("tab\tline\nreturn\r", None),
        ("温度 < 5 度，ＡＢＣ ①", None),
        ("delete \x7f and next-line \x85 are not C0", None),
    ],
)
def test_refused_characters(text: str, found: str | None) -> None:
    assert refused_character(text) == found


def test_one_problem_per_field_naming_the_character() -> None:
    [problem] = control_problems([("address", "门口"), ("text", "a\x00b\x01"), ("name", None)])
    assert (problem.field, problem.rule) == ("text", CONTROL_RULE)
    assert problem.message.startswith("U+0000 is a control character")
