"""The text classifier: free text (Chinese or English) → a suggested category.

Plain Python over scikit-learn: no database, no web. Train it from a city's labelled history,
evaluate it with stratified cross-validation and a held-out split, save it as a versioned model
file beside a fingerprint of its data, and load it to suggest categories to an operator::

    model = train(texts, labels)
    model.suggest("小区门口垃圾堆积无人清理", k=3)   # [Suggestion(label, confidence), …]
    card = save(model, classifier_home(settings.data_dir) / "default", clock=SystemClock())
    model = load(classifier_home(settings.data_dir) / "default")

The operators' corrections are kept in a dispatch table: ``services`` writes them (in the
desk's transaction) and ``queries`` reads them for training; neither is imported here, so the
model itself needs no database.
"""

from onegrid.dispatch.classifier.corrections import (
    Correction,
    check_correction,
    corrections_file,
    read_corrections,
    training_rows,
)
from onegrid.dispatch.classifier.dataset import (
    DataSource,
    LabelledData,
    file_sha256,
    read_labelled_csv,
)
from onegrid.dispatch.classifier.evaluation import (
    EvaluationReport,
    FoldScore,
    LabelScore,
    Metrics,
    evaluate,
    evaluate_held_out,
    score,
)
from onegrid.dispatch.classifier.features import FEATURES_VERSION, compose, normalise
from onegrid.dispatch.classifier.model import (
    ClassifierConfig,
    Suggestion,
    TrainedClassifier,
    TrainingSummary,
)
from onegrid.dispatch.classifier.store import (
    ModelCard,
    classifier_home,
    list_models,
    list_versions,
    load,
    load_with_card,
    save,
)
from onegrid.dispatch.classifier.training import check_labelled, train, training_sha256

__all__ = [
    "FEATURES_VERSION",
    "ClassifierConfig",
    "Correction",
    "DataSource",
    "EvaluationReport",
    "FoldScore",
    "LabelScore",
    "LabelledData",
    "Metrics",
    "ModelCard",
    "Suggestion",
    "TrainedClassifier",
    "TrainingSummary",
    "check_correction",
    "check_labelled",
    "classifier_home",
    "compose",
    "corrections_file",
    "evaluate",
    "evaluate_held_out",
    "file_sha256",
    "list_models",
    "list_versions",
    "load",
    "load_with_card",
    "normalise",
    "read_corrections",
    "read_labelled_csv",
    "save",
    "score",
    "train",
    "training_rows",
    "training_sha256",
]
