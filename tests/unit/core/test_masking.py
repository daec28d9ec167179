from __future__ import annotations

import pytest

from onegrid.core.masking import mask_email, mask_name, mask_phone


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("13812345678", "138****5678"), ("5551234", "*****34"), ("123", "***"), (None, None)],
)
def test_mask_phone(raw: str | None, masked: str | None) -> None:
    assert mask_phone(raw) == masked


def test_mask_name_and_email() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_email("jane@example.org") == "j***@example.org"
