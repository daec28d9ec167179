from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier import (
    append_correction,
    corrections_file,
    read_corrections,
    training_rows_from_corrections,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_choices_are_appended_and_read_back(tmp_path: Path) -> None:
    path = corrections_file(tmp_path / "classifier" / "default")
    clock = FixedClock(T0)
    first = append_correction(
        path, text="井盖丢了", label="roads", suggested="roads", confidence=0.8, clock=clock
    )
    clock.advance(timedelta(minutes=1))
    append_correction(path, text="loud bar", label="noise", suggested="roads", clock=clock)
    kept = read_corrections(path)
    assert kept[0] == first
    assert [c.confirmed for c in kept] == [True, False]
    assert kept[1].at == T0 + timedelta(minutes=1)
    assert path.read_text(encoding="utf-8").count("\n") == 2
    assert "井盖丢了" in path.read_text(encoding="utf-8")  # readable, not escaped


def test_latest_choice_for_a_text_is_the_training_row(tmp_path: Path) -> None:
    path = tmp_path / "corrections.jsonl"
    clock = FixedClock(T0)
    append_correction(path, text="路灯不亮", label="noise", clock=clock)
    append_correction(path, text="loud bar", label="noise", clock=clock)
    append_correction(path, text=" 路灯不亮\n", label="roads", clock=clock)
    rows = training_rows_from_corrections(path)
    assert rows.texts == ["loud bar", " 路灯不亮\n"]
    assert rows.labels == ["noise", "roads"]
    assert rows.sources[0].rows == 2


def test_no_file_means_no_rows(tmp_path: Path) -> None:
    rows = training_rows_from_corrections(tmp_path / "none.jsonl")
    assert (rows.texts, rows.sources) == ([], ())


def test_blank_choices_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with pytest.raises(InvalidInput) as info:
        append_correction(path, text=" ", label="", confidence=2.0, clock=FixedClock(T0))
    assert [p.field for p in info.value.problems] == ["text", "label", "confidence"]
    assert not path.exists()


def test_a_damaged_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    append_correction(path, text="路灯不亮", label="roads", clock=FixedClock(T0))
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"text": "half a line\n')
    with pytest.raises(InvalidInput, match="line 2 is not a correction"):
        read_corrections(path)
