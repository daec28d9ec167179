from __future__ import annotations

import math
from typing import Any

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier import ClassifierConfig, Suggestion, TrainedClassifier, train
from tests.unit.dispatch.synthetic import LABELS, bilingual_messages


@pytest.fixture(scope="module")
def model() -> TrainedClassifier:
    texts, labels = bilingual_messages()
    return train(texts, labels, config=ClassifierConfig(title_weight=1))


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("小区门口垃圾堆积好几天了没人清理", "sanitation"),
        ("the trash bins are overflowing again", "sanitation"),
        ("路口井盖缺失，晚上路灯也不亮", "roads"),
        ("there is a pothole near the bus stop", "roads"),
        ("楼下酒吧每天深夜音乐声音很大", "noise"),
        ("loud construction noise at 2am", "noise"),
    ],
)
def test_suggests_the_right_category_in_chinese_and_english(
    model: TrainedClassifier, text: str, label: str
) -> None:
    top = model.suggest(text, k=3)
    assert top[0].label == label
    assert top[0].confidence > 0.5


def test_suggestions_are_ranked_probabilities(model: TrainedClassifier) -> None:
    suggestions = model.suggest("垃圾很多", k=3)
    assert [type(s) for s in suggestions] == [Suggestion] * 3
    assert {s.label for s in suggestions} == set(LABELS)
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert math.isclose(sum(confidences), 1.0, rel_tol=1e-9)


def test_k_is_capped_by_the_labels_and_must_be_positive(model: TrainedClassifier) -> None:
    assert len(model.suggest("noise", k=10)) == len(LABELS)
    with pytest.raises(InvalidInput, match="k: must be at least 1"):
        model.suggest("noise", k=0)


def test_predict_many_matches_the_top_suggestion(model: TrainedClassifier) -> None:
    texts, _ = bilingual_messages(per_label=5, seed=99)
    assert model.predict_many(texts) == [model.suggest(t, k=1)[0].label for t in texts]


def test_a_blank_text_is_refused_by_row(model: TrainedClassifier) -> None:
    with pytest.raises(InvalidInput) as info:
        model.predict_many(["路灯坏了", "  \n\t "])
    assert [(p.field, p.rule, p.record) for p in info.value.problems] == [("text", "required", "1")]


def test_training_remembers_what_it_learnt_from(model: TrainedClassifier) -> None:
    texts, labels = bilingual_messages()
    again = train(texts, labels, config=ClassifierConfig(title_weight=1))
    assert model.training.rows == len(texts)
    assert model.training.label_counts == {label: 30 for label in LABELS}
    assert len(model.training.sha256) == 64
    assert again.training.sha256 == model.training.sha256
    assert again.predict_many(texts) == model.predict_many(texts)  # seeded: reproducible


def test_the_fingerprint_changes_with_a_label() -> None:
    texts, labels = bilingual_messages(per_label=4)
    flipped = ["noise" if label == "roads" else label for label in labels]
    assert train(texts, labels).training.sha256 != train(texts, flipped).training.sha256


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        ([], [], "no labelled rows"),
        (["a", "b"], ["x"], "2 texts but 1 labels"),
        (
            ["路灯坏了", "路灯不亮"],
            ["roads", "roads"],
            "at least 2 different labels to tell apart, found 1: roads",
        ),
        (["路灯坏了", " \t"], ["roads", "noise"], "text is empty"),
        (["路灯坏了", "太吵了"], ["roads", " "], "label is empty"),
    ],
)
def test_bad_training_input_is_named(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        train(texts, labels)


def test_texts_sharing_no_ngram_are_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="no character n-gram occurs 2\\+ times"):
        train(["甲", "乙"], ["a", "b"])


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("ngram", {"ngram_min": 3, "ngram_max": 2}),
        ("min_df", {"min_df": 0}),
        ("title_weight", {"title_weight": 0}),
        ("alpha", {"alpha": 0.0}),
        ("max_iter", {"max_iter": 0}),
    ],
)
def test_config_is_checked(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        ClassifierConfig(**kwargs)
    assert info.value.problems[0].field == field
