"""The classifier's suggested category for what a caller said, or a clear "no model" answer."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from onegrid.core.errors import DomainError
from onegrid.dispatch.classifier import (
    ModelCard,
    Suggestion,
    TrainedClassifier,
    classifier_home,
    list_versions,
    load_with_card,
)


@dataclass(frozen=True)
class CategorySuggestion:
    available: bool
    suggestions: tuple[Suggestion, ...] = ()
    model: str | None = None
    model_version: str | None = None
    reason: str = ""  # why there is no suggestion

    @property
    def best(self) -> Suggestion | None:
        return self.suggestions[0] if self.suggestions else None


_lock = threading.Lock()
_loaded: dict[tuple[Path, str], TrainedClassifier] = {}


def _newest(directory: Path) -> ModelCard | None:
    try:
        versions = list_versions(directory)
    except DomainError:
        return None
    return versions[0] if versions else None


def suggest_category(data_dir: Path, name: str, text: str, k: int = 3) -> CategorySuggestion:
    """Up to ``k`` categories for ``text`` from the newest model called ``name``."""
    directory = classifier_home(data_dir) / name
    card = _newest(directory)
    if card is None:
        return CategorySuggestion(
            False,
            model=name,
            reason=f"no model: no classifier {name!r} has been trained "
            "(run `onegrid classifier train`); choose the category by hand",
        )
    key = (directory, card.version)
    with _lock:
        model = _loaded.get(key)
        if model is None:
            try:
                model, card = load_with_card(directory, card.version)
            except DomainError as exc:
                return CategorySuggestion(False, model=name, reason=f"no model: {exc}")
            _loaded[key] = model
    return CategorySuggestion(True, tuple(model.suggest(text, k=k)), name, card.version)
