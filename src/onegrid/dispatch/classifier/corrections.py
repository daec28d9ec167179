"""Operators' confirmations and corrections of suggested categories, kept as training data.

The hotline desk shows the classifier's suggestion; whatever category the operator dispatches
with, confirmed or corrected, is a labelled example. They are appended, one JSON object a line,
to ``<data_dir>/classifier/<name>/corrections.jsonl`` until the dispatch context has tables.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from onegrid.core.clock import Clock, ensure_utc
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.dispatch.classifier.dataset import DataSource, LabelledData, file_sha256
from onegrid.dispatch.classifier.features import normalise

CORRECTIONS_FILE = "corrections.jsonl"


@dataclass(frozen=True)
class Correction:
    """The category an operator chose for a text, beside what was suggested."""

    text: str
    label: str
    at: datetime
    suggested: str | None = None
    confidence: float | None = None
    model_version: str | None = None
    operator: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.suggested == self.label

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "text": self.text,
            "label": self.label,
            "suggested": self.suggested,
            "confidence": self.confidence,
            "model_version": self.model_version,
            "operator": self.operator,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        return cls(
            text=str(data["text"]),
            label=str(data["label"]),
            at=ensure_utc(datetime.fromisoformat(data["at"])),
            suggested=data.get("suggested"),
            confidence=data.get("confidence"),
            model_version=data.get("model_version"),
            operator=data.get("operator"),
        )


def corrections_file(model_dir: Path) -> Path:
    """The corrections file of one named model (``<data_dir>/classifier/<name>``)."""
    return model_dir / CORRECTIONS_FILE


def append_correction(
    path: Path,
    *,
    text: str,
    label: str,
    clock: Clock,
    suggested: str | None = None,
    confidence: float | None = None,
    model_version: str | None = None,
    operator: str | None = None,
) -> Correction:
    """Append the operator's choice for ``text`` to the JSONL file at ``path``."""
    problems = []
    if not normalise(text):
        problems.append(FieldProblem("text", "required", "text is empty"))
    if not label.strip():
        problems.append(FieldProblem("label", "required", "label is empty"))
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        problems.append(FieldProblem("confidence", "range", "must be between 0 and 1"))
    if problems:
        raise InvalidInput(problems)
    correction = Correction(
        text=text,
        label=label.strip(),
        at=ensure_utc(clock.now()),
        suggested=suggested,
        confidence=confidence,
        model_version=model_version,
        operator=operator,
    )
    line = json.dumps(correction.as_dict(), ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write() on an O_APPEND descriptor: concurrent desks never interleave within a line.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    return correction


def read_corrections(path: Path) -> list[Correction]:
    """Every correction in the file, oldest first; a damaged line is named, never skipped."""
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(Correction.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidInput.one(
                    "corrections",
                    "jsonl",
                    f"{path} line {number} is not a correction: {exc}",
                    record=str(number),
                ) from None
    return out


def training_rows_from_corrections(path: Path) -> LabelledData:
    """The corrections as labelled rows; a text corrected twice keeps its latest label."""
    latest: dict[str, Correction] = {}
    for correction in read_corrections(path):
        key = normalise(correction.text)
        latest.pop(key, None)  # re-insert so the row order follows the latest choice
        latest[key] = correction
    rows = list(latest.values())
    if not rows:
        return LabelledData([], [], ())
    source = DataSource(str(path.resolve()), file_sha256(path), len(rows))
    return LabelledData([c.text for c in rows], [c.label for c in rows], (source,))
