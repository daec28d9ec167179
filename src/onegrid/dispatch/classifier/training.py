"""Fitting a classifier on labelled texts, after checking that they can teach one."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from sklearn.linear_model import SGDClassifier

from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.dispatch.classifier.features import build_vectorizer, normalise
from onegrid.dispatch.classifier.model import ClassifierConfig, TrainedClassifier, TrainingSummary

_SHOWN = 20  # problems listed before "… and N more"


def check_labelled(
    texts: Sequence[str], labels: Sequence[str], *, min_per_label: int = 1
) -> list[str]:
    """The normalised texts, or InvalidInput naming every row and label that cannot be used."""
    if len(texts) != len(labels):
        raise InvalidInput.one(
            "labels", "length", f"{len(texts)} texts but {len(labels)} labels: they must pair up"
        )
    if not texts:
        raise InvalidInput.one("texts", "required", "no labelled rows to learn from")
    cleaned = [normalise(t) for t in texts]
    problems = [
        FieldProblem("text", "required", "text is empty", record=str(i))
        for i, t in enumerate(cleaned)
        if not t
    ]
    problems += [
        FieldProblem("label", "required", "label is empty", record=str(i))
        for i, label in enumerate(labels)
        if not label.strip()
    ]
    if problems:
        raise InvalidInput(problems[:_SHOWN])
    counts = Counter(labels)
    if len(counts) < 2:
        raise InvalidInput.one(
            "label",
            "distinct",
            f"need at least 2 different labels to tell apart, found {len(counts)}: "
            + ", ".join(sorted(counts)),
        )
    scarce = sorted((n, label) for label, n in counts.items() if n < min_per_label)
    if scarce:
        listed = ", ".join(f"{label!r} has {n}" for n, label in scarce[:_SHOWN])
        raise InvalidInput.one(
            "label",
            "min-examples",
            f"every label needs at least {min_per_label} examples: {listed}"
            + (f" (… and {len(scarce) - _SHOWN} more)" if len(scarce) > _SHOWN else "")
            + "; merge rare labels or label more messages",
        )
    return cleaned


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    config: ClassifierConfig | None = None,
) -> TrainedClassifier:
    """Fit a classifier on ``texts`` labelled with ``labels`` (same length, ≥ 2 labels)."""
    config = config or ClassifierConfig()
    cleaned = check_labelled(texts, labels)
    vectorizer = build_vectorizer(config)
    try:
        matrix = vectorizer.fit_transform(cleaned)
    except ValueError as exc:
        # scikit-learn says so when min_df leaves no n-gram at all (tiny or disjoint texts).
        raise InvalidInput.one(
            "texts", "vocabulary", f"no character n-gram occurs {config.min_df}+ times: {exc}"
        ) from None
    estimator = SGDClassifier(
        loss="log_loss",
        alpha=config.alpha,
        max_iter=config.max_iter,
        tol=config.tol,
        class_weight="balanced" if config.balanced else None,
        random_state=config.seed,
    )
    estimator.fit(matrix, list(labels))
    summary = TrainingSummary(
        sha256=training_sha256(texts, labels), rows=len(texts), label_counts=dict(Counter(labels))
    )
    return TrainedClassifier(vectorizer, estimator, config, summary)


def training_sha256(texts: Sequence[str], labels: Sequence[str]) -> str:
    """A fingerprint of exactly what a model learnt from, whatever file the rows came from."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(label.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()
