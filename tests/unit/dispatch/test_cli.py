from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onegrid.cli import app
from tests.unit.dispatch.synthetic import bilingual_messages

runner = CliRunner()


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path / "var"))
    texts, labels = bilingual_messages(per_label=20)
    path = tmp_path / "history.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["subject", "detail", "category"])
        for text, label in zip(texts, labels, strict=True):
            writer.writerow([text, "", label])
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["classifier", *args])
    return result.exit_code, result.output


def test_train_suggest_and_list(history: Path, tmp_path: Path) -> None:
    # The operators' corrections are in the database: tests/integration/dispatch/
    # test_classifier_corrections.py trains with them.
    code, out = _run(
        "train", str(history), "--text-col", "subject", "--text-col2", "detail",
        "--label-col", "category", "--no-corrections",
    )  # fmt: skip
    assert code == 0, out
    assert "held-out 20%" in out
    versions = list((tmp_path / "var" / "classifier" / "default").iterdir())
    assert len(versions) == 1
    card = json.loads((versions[0] / "card.json").read_text(encoding="utf-8"))
    assert card["metrics"]["held_out"]["rows"] == 12
    assert card["sources"][0]["path"] == str(history.resolve())

    code, out = _run("suggest", "垃圾桶满了没人清理", "-k", "2")
    assert code == 0, out
    assert "sanitation" in out

    code, out = _run("train", str(history), "--text-col", "subject", "--label-col", "category",
                     "--no-evaluate", "--no-corrections")  # fmt: skip
    assert code == 0, out
    assert not (tmp_path / "var" / "onegrid.sqlite3").exists()

    code, out = _run("list")
    assert code == 0, out
    assert out.count("default") >= 2
    assert "(newest)" in out


def test_evaluate_prints_scores_per_label(history: Path) -> None:
    code, out = _run(
        "evaluate", str(history), "--text-col", "subject", "--label-col", "category",
        "--folds", "4",
    )  # fmt: skip
    assert code == 0, out
    assert "4-fold CV" in out
    for label in ("noise", "roads", "sanitation"):
        assert label in out


def test_refusals_are_messages_not_tracebacks(history: Path) -> None:
    code, out = _run("train", str(history), "--text-col", "subject", "--label-col", "kind")
    assert code == 1
    assert "has no column 'kind'" in out
    code, out = _run("suggest", "anything")
    assert code == 1
    assert "no trained classifier 'default'" in out
    code, out = _run("list")
    assert code == 1
    assert "no trained classifier" in out
