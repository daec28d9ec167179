from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.dispatch.classifier import (
    DataSource,
    TrainedClassifier,
    list_models,
    list_versions,
    load,
    load_with_card,
    save,
    train,
)
from tests.unit.dispatch.synthetic import bilingual_messages

T0 = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def model() -> TrainedClassifier:
    texts, labels = bilingual_messages(per_label=12)
    return train(texts, labels)


def test_round_trip_gives_identical_predictions(model: TrainedClassifier, tmp_path: Path) -> None:
    save(model, tmp_path / "default", clock=FixedClock(T0))
    loaded = load(tmp_path / "default")
    texts, _ = bilingual_messages(per_label=8, seed=123)
    assert loaded.predict_many(texts) == model.predict_many(texts)
    assert [loaded.suggest(t) for t in texts] == [model.suggest(t) for t in texts]
    assert loaded.config == model.config
    assert loaded.training == model.training
    assert loaded.labels == model.labels


def test_card_says_what_was_trained_on_what(model: TrainedClassifier, tmp_path: Path) -> None:
    source = DataSource("/data/history.csv", "ab" * 32, 36)
    card = save(
        model,
        tmp_path / "hotline",
        clock=FixedClock(T0),
        sources=(source,),
        metrics={"held_out": {"macro_f1": 0.9}},
    )
    assert card.version == f"20261122T083000Z-{model.training.sha256[:12]}"
    assert card.path == tmp_path / "hotline" / card.version
    assert sorted(p.name for p in card.path.iterdir()) == [
        "card.json",
        "model.skops",
        "training.sha256",
    ]
    on_disk = json.loads((card.path / "card.json").read_text(encoding="utf-8"))
    assert on_disk["name"] == "hotline"
    assert on_disk["trained_at"] == "2026-11-22T08:30:00+00:00"
    assert on_disk["training_sha256"] == model.training.sha256
    assert on_disk["rows"] == 36
    assert on_disk["labels"] == ["noise", "roads", "sanitation"]
    assert on_disk["label_counts"] == {"noise": 12, "roads": 12, "sanitation": 12}
    assert on_disk["sources"] == [{"path": "/data/history.csv", "sha256": "ab" * 32, "rows": 36}]
    assert on_disk["config"]["title_weight"] == model.config.title_weight
    assert on_disk["features"] == "char-tfidf-v1"
    assert on_disk["vocabulary_size"] == model.vocabulary_size
    assert on_disk["libraries"]["scikit-learn"] == metadata.version("scikit-learn")
    assert set(on_disk["libraries"]) == {"python", "scikit-learn", "numpy", "scipy", "skops"}
    assert on_disk["metrics"] == {"held_out": {"macro_f1": 0.9}}
    assert re.fullmatch(r"[0-9a-f]{64}", on_disk["model_sha256"])
    assert (
        card.path / "training.sha256"
    ).read_text() == f"{model.training.sha256}  training-rows\n"


def test_newest_version_is_loaded_unless_one_is_named(
    model: TrainedClassifier, tmp_path: Path
) -> None:
    clock = FixedClock(T0)
    first = save(model, tmp_path / "m", clock=clock)
    clock.advance(timedelta(days=1))
    texts, labels = bilingual_messages(per_label=12, seed=2)
    second = save(train(texts, labels), tmp_path / "m", clock=clock)
    assert [c.version for c in list_versions(tmp_path / "m")] == [second.version, first.version]
    assert load_with_card(tmp_path / "m")[1].version == second.version
    assert load_with_card(tmp_path / "m", first.version)[1].version == first.version
    assert list(list_models(tmp_path)) == ["m"]


def test_saving_twice_in_one_second_keeps_both(model: TrainedClassifier, tmp_path: Path) -> None:
    clock = FixedClock(T0)
    a = save(model, tmp_path / "m", clock=clock)
    b = save(model, tmp_path / "m", clock=clock)
    assert b.version == a.version + "-2"
    assert len(list_versions(tmp_path / "m")) == 2
    assert not [p for p in (tmp_path / "m").iterdir() if p.name.startswith(".")]


def test_missing_model_or_version_is_not_found(model: TrainedClassifier, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no trained classifier 'nope'"):
        load(tmp_path / "nope")
    save(model, tmp_path / "m", clock=FixedClock(T0))
    with pytest.raises(NotFound, match="has no version 'v9'"):
        load(tmp_path / "m", "v9")


def test_a_tampered_model_file_is_refused(model: TrainedClassifier, tmp_path: Path) -> None:
    card = save(model, tmp_path / "m", clock=FixedClock(T0))
    assert card.path is not None
    with (card.path / "model.skops").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(InvalidInput, match="does not match its card's sha256"):
        load(tmp_path / "m")


def test_a_file_skops_cannot_read_is_refused(model: TrainedClassifier, tmp_path: Path) -> None:
    card = save(model, tmp_path / "m", clock=FixedClock(T0))
    assert card.path is not None
    (card.path / "model.skops").write_bytes(b"not a zip file")
    data = json.loads((card.path / "card.json").read_text(encoding="utf-8"))
    data["model_sha256"] = hashlib.sha256(b"not a zip file").hexdigest()
    (card.path / "card.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot be loaded"):
        load(tmp_path / "m")


def test_a_model_of_other_features_must_be_retrained(
    model: TrainedClassifier, tmp_path: Path
) -> None:
    card = save(model, tmp_path / "m", clock=FixedClock(T0))
    assert card.path is not None
    data = json.loads((card.path / "card.json").read_text(encoding="utf-8"))
    data["features"] = "word-tfidf-v0"
    (card.path / "card.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInput, match="train it again"):
        load(tmp_path / "m")
