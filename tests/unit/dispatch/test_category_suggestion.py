"""The desk's category suggestion: from the newest trained model, or a clear "no model"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from onegrid.core.clock import FixedClock
from onegrid.dispatch.classifier import classifier_home, save, train
from onegrid.dispatch.hotline.suggest import suggest_category
from tests.unit.dispatch.synthetic import bilingual_messages


def test_no_model_is_said_plainly(tmp_path: Path) -> None:
    found = suggest_category(tmp_path, "default", "垃圾堆积无人清理")
    assert not found.available and found.best is None
    assert found.reason.startswith("no model") and "onegrid classifier train" in found.reason


def test_the_newest_model_suggests(tmp_path: Path) -> None:
    texts, labels = bilingual_messages(per_label=15)
    card = save(
        train(texts, labels),
        classifier_home(tmp_path) / "default",
        clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)),
    )
    found = suggest_category(tmp_path, "default", "幸福小区垃圾堆积无人清理", k=2)
    assert found.available and found.model_version == card.version
    assert found.best is not None and found.best.label == "sanitation"
    assert len(found.suggestions) == 2
