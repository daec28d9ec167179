from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier import (
    Correction,
    check_correction,
    corrections_file,
    read_corrections,
    training_rows,
    training_sha256,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _line(text: str, label: str, **more: object) -> str:
    return json.dumps({"at": T0.isoformat(), "text": text, "label": label, **more}) + "\n"


def test_latest_choice_for_a_text_is_the_training_row() -> None:
    kept = [
        Correction("路灯不亮", "noise", T0),
        Correction("loud bar", "noise", T0 + timedelta(minutes=1)),
        Correction(" 路灯不亮\n", "roads", T0 + timedelta(minutes=2)),
    ]
    rows = training_rows(kept, source="database:classifier_corrections?model=x", through_id=7)
    assert rows.texts == ["loud bar", " 路灯不亮\n"]
    assert rows.labels == ["noise", "roads"]
    [source] = rows.sources
    assert (source.rows, source.through_id) == (2, 7)
    assert source.sha256 == training_sha256(rows.texts, rows.labels)
    assert source.as_dict()["through_id"] == 7


def test_no_corrections_means_no_rows() -> None:
    rows = training_rows([], source="anything", through_id=None)
    assert (rows.texts, rows.sources) == ([], ())


def test_blank_or_oversized_choices_are_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        check_correction(Correction(" ", "", T0, confidence=2.0))
    assert [p.field for p in info.value.problems] == ["text", "label", "confidence"]
    with pytest.raises(InvalidInput) as info:
        check_correction(Correction("井盖丢了", "roads", T0, model_version="v" * 65))
    assert [(p.field, p.rule) for p in info.value.problems] == [("model_version", "max_length")]
    assert check_correction(Correction("井盖丢了", " roads ", T0)).label == "roads"


def test_an_old_file_is_read_with_a_key_per_line(tmp_path: Path) -> None:
    path = corrections_file(tmp_path / "classifier" / "default")
    path.parent.mkdir(parents=True)
    path.write_text(
        _line("井盖丢了", "roads", suggested="roads", confidence=0.8, operator="user:3")
        + "\n"
        + _line("loud bar", "noise", suggested="roads"),
        encoding="utf-8",
    )
    found = list(read_corrections(path))
    assert [c.label for _, c in found] == ["roads", "noise"]
    assert [c.confirmed for _, c in found] == [True, False]
    assert found[0][1] == Correction("井盖丢了", "roads", T0, "roads", 0.8, None, "user:3")
    assert len({key for key, _ in found}) == 2
    assert list(read_corrections(path)) == found  # the same file, the same keys
    assert list(read_corrections(tmp_path / "none.jsonl")) == []


def test_a_damaged_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(_line("路灯不亮", "roads") + '{"text": "half a line\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 2 is not a correction"):
        list(read_corrections(path))
    path.write_text(_line("路灯不亮", " "), encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 1 is not a correction: label"):
        list(read_corrections(path))
