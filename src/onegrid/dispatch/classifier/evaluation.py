"""How well a configuration classifies: stratified cross-validation and a held-out split."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.classifier.model import ClassifierConfig
from onegrid.dispatch.classifier.training import check_labelled, train


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    """Scores of predictions against the truth; ``confusion[i][j]``: true ``labels[i]``,
    predicted ``labels[j]``."""

    rows: int
    accuracy: float
    macro_f1: float
    labels: tuple[str, ...]
    per_label: tuple[LabelScore, ...]
    confusion: tuple[tuple[int, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "per_label": [vars(s) for s in self.per_label],
            "labels": list(self.labels),
            "confusion": [list(r) for r in self.confusion],
        }


@dataclass(frozen=True)
class FoldScore:
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class EvaluationReport:
    """Cross-validated scores (``accuracy``/``macro_f1``: means over the folds; per-label and
    confusion from the pooled out-of-fold predictions) and one held-out split."""

    folds: int
    seed: int
    fold_scores: tuple[FoldScore, ...]
    cross_validated: Metrics
    holdout_fraction: float
    held_out: Metrics

    @property
    def accuracy(self) -> float:
        return statistics.fmean(f.accuracy for f in self.fold_scores)

    @property
    def macro_f1(self) -> float:
        return statistics.fmean(f.macro_f1 for f in self.fold_scores)

    @property
    def macro_f1_stdev(self) -> float:
        return statistics.pstdev(f.macro_f1 for f in self.fold_scores)

    @property
    def per_label(self) -> tuple[LabelScore, ...]:
        return self.cross_validated.per_label

    @property
    def confusion(self) -> tuple[tuple[int, ...], ...]:
        return self.cross_validated.confusion

    def as_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "seed": self.seed,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "macro_f1_stdev": self.macro_f1_stdev,
            "fold_scores": [vars(f) for f in self.fold_scores],
            "cross_validated": self.cross_validated.as_dict(),
            "holdout_fraction": self.holdout_fraction,
            "held_out": self.held_out.as_dict(),
        }


def score(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Metrics:
    """Accuracy, macro-F1 over ``labels``, per-label precision/recall/F1 and the confusion."""
    order = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=order, zero_division=0
    )
    matrix = confusion_matrix(truth, predicted, labels=order)
    return Metrics(
        rows=len(truth),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1.mean()),
        labels=tuple(order),
        per_label=tuple(
            LabelScore(label, float(p), float(r), float(f), int(s))
            for label, p, r, f, s in zip(order, precision, recall, f1, support, strict=True)
        ),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
    )


def held_out_split(
    texts: Sequence[str], labels: Sequence[str], *, fraction: float, seed: int
) -> tuple[list[str], list[str], list[str], list[str]]:
    """A stratified split: (train texts, test texts, train labels, test labels)."""
    train_x, test_x, train_y, test_y = train_test_split(
        list(texts), list(labels), test_size=fraction, stratify=list(labels), random_state=seed
    )
    return list(train_x), list(test_x), list(train_y), list(test_y)


def evaluate_held_out(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    fraction: float = 0.2,
    seed: int = 20261122,
    config: ClassifierConfig | None = None,
) -> Metrics:
    """Train on a stratified ``1 - fraction`` of the rows and score the rest."""
    _check_fraction(fraction, len(set(labels)), len(labels))
    check_labelled(texts, labels, min_per_label=2)
    train_x, test_x, train_y, test_y = held_out_split(texts, labels, fraction=fraction, seed=seed)
    model = train(train_x, train_y, config=config)
    return score(test_y, model.predict_many(test_x), sorted(set(labels)))


def evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 20261122,
    holdout_fraction: float = 0.2,
    config: ClassifierConfig | None = None,
) -> EvaluationReport:
    """Stratified ``folds``-fold cross-validation plus a held-out split, both with ``seed``.

    Every fold fits its own vectoriser, so no test text shapes the vocabulary it is scored with.
    """
    if folds < 2:
        raise InvalidInput.one("folds", "range", "cross-validation needs at least 2 folds")
    check_labelled(texts, labels, min_per_label=folds)
    _check_fraction(holdout_fraction, len(set(labels)), len(labels))
    order = sorted(set(labels))
    texts, labels = list(texts), list(labels)
    out_of_fold = [""] * len(texts)
    fold_scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts, labels):
        model = train([texts[i] for i in train_idx], [labels[i] for i in train_idx], config=config)
        predicted = model.predict_many([texts[i] for i in test_idx])
        truth = [labels[i] for i in test_idx]
        fold = score(truth, predicted, order)
        fold_scores.append(FoldScore(fold.accuracy, fold.macro_f1))
        for i, p in zip(test_idx, predicted, strict=True):
            out_of_fold[i] = p
    return EvaluationReport(
        folds=folds,
        seed=seed,
        fold_scores=tuple(fold_scores),
        cross_validated=score(labels, out_of_fold, order),
        holdout_fraction=holdout_fraction,
        held_out=evaluate_held_out(
            texts, labels, fraction=holdout_fraction, seed=seed, config=config
        ),
    )


def _check_fraction(fraction: float, n_labels: int, n_rows: int) -> None:
    if not 0 < fraction < 1:
        raise InvalidInput.one("holdout", "range", "the held-out fraction must be between 0 and 1")
    n_test = math.ceil(fraction * n_rows)  # as train_test_split counts it
    if n_test < n_labels or n_rows - n_test < n_labels:
        raise InvalidInput.one(
            "holdout",
            "range",
            f"a {fraction:.0%} held-out split of {n_rows} rows cannot hold all {n_labels} labels "
            "on both sides; label more messages or change the fraction",
        )
