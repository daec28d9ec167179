"""A trained classifier: text in, ranked category suggestions with a confidence out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.dispatch.classifier.features import compose, normalise


@dataclass(frozen=True)
class ClassifierConfig:
    """How a classifier is built; stored in its model card. Defaults chosen in ADR 0005."""

    ngram_min: int = 1
    ngram_max: int = 2
    min_df: int = 2
    sublinear_tf: bool = False
    title_weight: int = 5
    alpha: float = 1e-4
    max_iter: int = 50
    tol: float = 1e-3
    balanced: bool = True
    seed: int = 20261122

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.ngram_min <= self.ngram_max <= 6:
            problems.append(("ngram", "need 1 ≤ ngram_min ≤ ngram_max ≤ 6"))
        if self.min_df < 1:
            problems.append(("min_df", "must be at least 1"))
        if self.title_weight < 1:
            problems.append(("title_weight", "must be at least 1"))
        if not self.alpha > 0:
            problems.append(("alpha", "must be positive"))
        if self.max_iter < 1:
            problems.append(("max_iter", "must be at least 1"))
        if problems:
            raise InvalidInput([FieldProblem(f, "range", m) for f, m in problems])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class TrainingSummary:
    """What a model learnt from: a fingerprint of the rows, their count and the labels' counts."""

    sha256: str
    rows: int
    label_counts: dict[str, int]


@dataclass(frozen=True)
class Suggestion:
    """A category the operator may pick, with the model's probability for it (0–1)."""

    label: str
    confidence: float


class TrainedClassifier:
    """A fitted vectoriser and linear model; thread-safe for reading once built."""

    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        estimator: SGDClassifier,
        config: ClassifierConfig,
        training: TrainingSummary,
    ) -> None:
        # Column-major weights make ``coef_.T`` C-contiguous, so scipy's sparse product does not
        # copy the whole (labels × n-grams) matrix on every call: 2× faster single suggestions.
        estimator.coef_ = np.asfortranarray(estimator.coef_)
        self.vectorizer = vectorizer
        self.estimator = estimator
        self.config = config
        self.training = training
        self._labels: tuple[str, ...] = tuple(str(c) for c in estimator.classes_)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def vocabulary_size(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def compose(self, title: str, body: str = "") -> str:
        """The text this model expects for a message with a title and a body."""
        return compose(title, body, title_weight=self.config.title_weight)

    def suggest(self, text: str, k: int = 3) -> list[Suggestion]:
        """The ``k`` likeliest categories, likeliest first."""
        return self.suggest_many([text], k=k)[0]

    def suggest_many(self, texts: Sequence[str], k: int = 3) -> list[list[Suggestion]]:
        if k < 1:
            raise InvalidInput.one("k", "range", "must be at least 1")
        proba = self._probabilities(texts)
        k = min(k, len(self._labels))
        top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        return [
            [Suggestion(self._labels[j], float(row[j])) for j in order]
            for row, order in zip(proba, top, strict=True)
        ]

    def predict_many(self, texts: Sequence[str]) -> list[str]:
        """The likeliest category of each text."""
        proba = self._probabilities(texts)
        return [self._labels[j] for j in np.argmax(proba, axis=1)]

    def _probabilities(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        cleaned = [normalise(t) for t in texts]
        blank = [str(i) for i, t in enumerate(cleaned) if not t]
        if blank:
            raise InvalidInput(
                [FieldProblem("text", "required", "text is empty", record=i) for i in blank]
            )
        # The inputs are our own TF-IDF rows (always finite) and the parameters were checked at
        # training: skipping scikit-learn's re-checks halves the cost of a single suggestion.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            matrix = self.vectorizer.transform(cleaned)
            proba: np.ndarray[Any, np.dtype[np.float64]] = self.estimator.predict_proba(matrix)
        return proba
