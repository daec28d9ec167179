"""Model files on disk, versioned beside a fingerprint of the data they were trained on.

Layout: ``<data_dir>/classifier/<name>/<version>/{model.skops, card.json, training.sha256}``.
A version is ``<UTC timestamp>-<first 12 hex of the training data's sha256>``, so the same data
trained twice gives two versions that name the same data. Models are written with skops, whose
loader builds only an allow-listed set of types: a model file cannot run code when loaded.
"""

from __future__ import annotations

import json
import platform
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, BadZipFile

import numpy as np
import skops.io as sio
import structlog
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from skops.io.exceptions import UntrustedTypesFoundException

from onegrid.core.clock import Clock, ensure_utc
from onegrid.core.errors import InvalidInput, NotFound
from onegrid.dispatch.classifier.dataset import DataSource, file_sha256
from onegrid.dispatch.classifier.features import FEATURES_VERSION, build_vectorizer
from onegrid.dispatch.classifier.model import ClassifierConfig, TrainedClassifier, TrainingSummary

MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
TRAINING_FILE = "training.sha256"
CARD_FORMAT = 1
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "skops")

# What skops raises for a damaged, truncated or foreign file (and for a type not allow-listed).
_LOAD_ERRORS = (UntrustedTypesFoundException, BadZipFile, OSError, ValueError, KeyError, TypeError)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ModelCard:
    """What a saved model is: its version, data, labels, configuration, libraries and scores."""

    name: str
    version: str
    trained_at: datetime
    training_sha256: str
    rows: int
    label_counts: dict[str, int]
    config: ClassifierConfig
    features: str
    vocabulary_size: int
    model_file: str
    model_sha256: str
    libraries: dict[str, str]
    sources: tuple[DataSource, ...] = ()
    metrics: dict[str, Any] | None = None
    format: int = CARD_FORMAT
    path: Path | None = field(default=None, compare=False)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sorted(self.label_counts))

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "name": self.name,
            "version": self.version,
            "trained_at": self.trained_at.isoformat(),
            "training_sha256": self.training_sha256,
            "rows": self.rows,
            "labels": list(self.labels),
            "label_counts": dict(sorted(self.label_counts.items())),
            "sources": [s.as_dict() for s in self.sources],
            "config": self.config.as_dict(),
            "features": self.features,
            "vocabulary_size": self.vocabulary_size,
            "model_file": self.model_file,
            "model_sha256": self.model_sha256,
            "libraries": self.libraries,
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> ModelCard:
        return cls(
            name=data["name"],
            version=data["version"],
            trained_at=ensure_utc(datetime.fromisoformat(data["trained_at"])),
            training_sha256=data["training_sha256"],
            rows=int(data["rows"]),
            label_counts={str(k): int(v) for k, v in data["label_counts"].items()},
            config=ClassifierConfig.from_dict(data["config"]),
            features=data["features"],
            vocabulary_size=int(data["vocabulary_size"]),
            model_file=data["model_file"],
            model_sha256=data["model_sha256"],
            libraries=dict(data["libraries"]),
            sources=tuple(DataSource(**s) for s in data.get("sources", [])),
            metrics=data.get("metrics"),
            format=int(data.get("format", CARD_FORMAT)),
            path=path,
        )


def classifier_home(data_dir: Path) -> Path:
    """Where every named classifier lives under the settings' ``data_dir``."""
    return data_dir / "classifier"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    versions.update({name: metadata.version(name) for name in _LIBRARIES})
    return versions


def save(
    model: TrainedClassifier,
    directory: Path,
    *,
    clock: Clock,
    sources: tuple[DataSource, ...] = (),
    metrics: dict[str, Any] | None = None,
) -> ModelCard:
    """Write ``model`` as a new version under ``directory`` (one directory per model name).

    The version appears whole or not at all: it is written to a hidden directory and renamed.
    """
    trained_at = ensure_utc(clock.now())
    summary = model.training
    stem = f"{trained_at:%Y%m%dT%H%M%SZ}-{summary.sha256[:12]}"
    directory.mkdir(parents=True, exist_ok=True)
    version, n = stem, 1
    while (directory / version).exists():
        n += 1
        version = f"{stem}-{n}"
    staging = directory / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        sio.dump(_as_arrays(model), staging / MODEL_FILE, compression=ZIP_DEFLATED)
        card = ModelCard(
            name=directory.name,
            version=version,
            trained_at=trained_at,
            training_sha256=summary.sha256,
            rows=summary.rows,
            label_counts=dict(summary.label_counts),
            config=model.config,
            features=FEATURES_VERSION,
            vocabulary_size=model.vocabulary_size,
            model_file=MODEL_FILE,
            model_sha256=file_sha256(staging / MODEL_FILE),
            libraries=library_versions(),
            sources=sources,
            metrics=metrics,
        )
        (staging / CARD_FILE).write_text(
            json.dumps(card.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        # sha256sum's format, naming what was hashed: the rows as learnt, not a file.
        (staging / TRAINING_FILE).write_text(f"{summary.sha256}  training-rows\n", "utf-8")
        staging.replace(directory / version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ModelCard.from_dict(card.as_dict(), path=directory / version)


def list_versions(directory: Path) -> list[ModelCard]:
    """Every saved version of one model, newest first."""
    if not directory.is_dir():
        return []
    cards = [
        read_card(child)
        for child in directory.iterdir()
        if child.is_dir() and not child.name.startswith(".") and (child / CARD_FILE).is_file()
    ]
    return sorted(cards, key=lambda c: (c.trained_at, c.version), reverse=True)


def list_models(home: Path) -> dict[str, list[ModelCard]]:
    """Every model name under ``home`` with its versions, newest first."""
    if not home.is_dir():
        return {}
    found = {child.name: list_versions(child) for child in sorted(home.iterdir()) if child.is_dir()}
    return {name: cards for name, cards in found.items() if cards}


def read_card(version_dir: Path) -> ModelCard:
    try:
        data = json.loads((version_dir / CARD_FILE).read_text(encoding="utf-8"))
        return ModelCard.from_dict(data, path=version_dir)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput.one(
            "model", "card", f"{version_dir / CARD_FILE} is not a readable model card: {exc}"
        ) from None


def load(directory: Path, version: str | None = None) -> TrainedClassifier:
    """The model saved under ``directory``: the newest version unless ``version`` is named."""
    return load_with_card(directory, version)[0]


def load_with_card(
    directory: Path, version: str | None = None
) -> tuple[TrainedClassifier, ModelCard]:
    card = _find(directory, version)
    assert card.path is not None
    model_path = card.path / card.model_file
    if not model_path.is_file() or file_sha256(model_path) != card.model_sha256:
        raise InvalidInput.one(
            "model", "integrity", f"{model_path} is missing or does not match its card's sha256"
        )
    if card.features != FEATURES_VERSION:
        raise InvalidInput.one(
            "model",
            "features",
            f"{card.version} was trained with features {card.features!r}; this OneGrid computes "
            f"{FEATURES_VERSION!r}: train it again",
        )
    installed = metadata.version("scikit-learn")
    if card.libraries.get("scikit-learn") != installed:
        log.warning(
            "classifier.library_mismatch",
            model=card.version,
            trained_with=card.libraries.get("scikit-learn"),
            installed=installed,
        )
    try:
        # trusted=None: skops builds only the types it knows to be safe, refusing anything else.
        parts = sio.load(model_path, trusted=None)
    except (
        UntrustedTypesFoundException,
        BadZipFile,
        OSError,
        ValueError,
        KeyError,
        TypeError,
    ) as exc:
        raise InvalidInput.one(
            "model", "integrity", f"{model_path} cannot be loaded: {exc}"
        ) from None
    vectorizer, estimator = _from_arrays(parts, card.config, model_path)
    summary = TrainingSummary(card.training_sha256, card.rows, dict(card.label_counts))
    return TrainedClassifier(vectorizer, estimator, card.config, summary), card


def _as_arrays(model: TrainedClassifier) -> dict[str, Any]:
    """The vocabulary as an array of terms in column order: a dict of 10⁵ n-grams would be
    written by skops one JSON object per entry, ten times the size and slow to load."""
    vocabulary = model.vectorizer.vocabulary_
    terms = np.empty(len(vocabulary), dtype=object)
    for term, column in vocabulary.items():
        terms[column] = term
    return {
        "terms": terms.astype(str),
        "idf": model.vectorizer.idf_,
        "estimator": model.estimator,
    }


def _from_arrays(
    parts: Any, config: ClassifierConfig, path: Path
) -> tuple[TfidfVectorizer, SGDClassifier]:
    broken = InvalidInput.one("model", "integrity", f"{path} does not hold a classifier")
    if not isinstance(parts, dict):
        raise broken
    terms, idf, estimator = parts.get("terms"), parts.get("idf"), parts.get("estimator")
    if not (
        isinstance(terms, np.ndarray)
        and isinstance(idf, np.ndarray)
        and isinstance(estimator, SGDClassifier)
        and terms.shape == idf.shape
        and estimator.coef_.shape[1] == len(terms)
    ):
        raise broken
    vectorizer = build_vectorizer(config)
    vectorizer.set_params(vocabulary={str(t): i for i, t in enumerate(terms)})
    vectorizer.idf_ = idf  # the public setter fits the vectoriser on the stored vocabulary
    return vectorizer, estimator


def _find(directory: Path, version: str | None) -> ModelCard:
    cards = list_versions(directory)
    if not cards:
        raise NotFound(f"no trained classifier {directory.name!r} under {directory.parent}")
    if version is None:
        return cards[0]
    for card in cards:
        if card.version == version:
            return card
    known = ", ".join(c.version for c in cards[:5])
    raise NotFound(f"classifier {directory.name!r} has no version {version!r} (newest: {known})")
