from __future__ import annotations

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier import evaluate, score
from tests.unit.dispatch.synthetic import LABELS, bilingual_messages


def test_report_has_cross_validation_and_held_out_scores() -> None:
    texts, labels = bilingual_messages(per_label=30)
    report = evaluate(texts, labels, folds=4, seed=3)
    assert len(report.fold_scores) == 4
    assert report.macro_f1 > 0.85
    assert report.accuracy > 0.85
    assert report.cross_validated.rows == len(texts)
    assert [s.label for s in report.per_label] == sorted(LABELS)
    assert sum(s.support for s in report.per_label) == len(texts)
    assert sum(map(sum, report.confusion)) == len(texts)
    assert report.held_out.rows == 18  # 20 % of 90, stratified
    assert report.held_out.macro_f1 > 0.8
    assert report.as_dict()["held_out"]["labels"] == sorted(LABELS)


def test_same_seed_same_report() -> None:
    texts, labels = bilingual_messages(per_label=10)
    assert evaluate(texts, labels, folds=3, seed=5) == evaluate(texts, labels, folds=3, seed=5)


def test_score_counts_per_label_and_confusion() -> None:
    metrics = score(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert metrics.accuracy == 0.75
    assert metrics.confusion == ((1, 1), (0, 2))
    a, b = metrics.per_label
    assert (a.precision, a.recall, a.support) == (1.0, 0.5, 2)
    assert (b.precision, b.recall, b.support) == (2 / 3, 1.0, 2)
    assert metrics.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2)


def test_a_label_with_fewer_examples_than_folds_is_named() -> None:
    texts, labels = bilingual_messages(per_label=10)
    texts += ["消防通道被占用", "fire lane blocked"]
    labels += ["fire", "fire"]
    with pytest.raises(InvalidInput, match="at least 5 examples: 'fire' has 2"):
        evaluate(texts, labels, folds=5)


def test_folds_and_holdout_are_checked() -> None:
    texts, labels = bilingual_messages(per_label=10)
    with pytest.raises(InvalidInput, match="at least 2 folds"):
        evaluate(texts, labels, folds=1)
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        evaluate(texts, labels, holdout_fraction=1.0)
    with pytest.raises(InvalidInput, match="cannot hold all 3 labels"):
        evaluate(texts, labels, folds=2, holdout_fraction=0.05)
