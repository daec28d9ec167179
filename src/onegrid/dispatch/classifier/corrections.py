"""Operators' confirmations and corrections of suggested categories, kept as training data.

The hotline desk shows the classifier's suggestion; whatever category the operator records the
call with, confirmed or corrected, is a labelled example. They are kept in the dispatch table
``classifier_corrections``, written in the transaction of the call (``services.py``) and read
for training (``queries.py``). This module is the plain part: the value, its checks, the rows it
gives training, and the reader of the ``corrections.jsonl`` files kept before that table
existed (``<data_dir>/classifier/<name>/corrections.jsonl``), which are imported once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from onegrid.core.clock import ensure_utc
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.dispatch.classifier.dataset import DataSource, LabelledData
from onegrid.dispatch.classifier.features import mask_personal, normalise
from onegrid.dispatch.classifier.training import training_sha256

CORRECTIONS_FILE = "corrections.jsonl"
NAME_MAX = 64  # a model name, a category, a model version: the table's column widths
# Who decided a correction made at the console (`onegrid classifier correct`), which has no
# signed-in user; the JSONL files left the operator out for those, so imported lines get it too.
CONSOLE = "console"


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        """One line of a ``corrections.jsonl`` file."""
        return cls(
            text=str(data["text"]),
            label=str(data["label"]),
            at=ensure_utc(datetime.fromisoformat(data["at"])),
            suggested=data.get("suggested"),
            confidence=data.get("confidence"),
            model_version=data.get("model_version"),
            operator=data.get("operator"),
        )


def check_correction(correction: Correction) -> Correction:
    """The correction with its label trimmed and its text masked (``mask_personal``), or every
    broken rule at once."""
    problems = []
    if not normalise(correction.text):
        problems.append(FieldProblem("text", "required", "text is empty"))
    label = correction.label.strip()
    if not label:
        problems.append(FieldProblem("label", "required", "label is empty"))
    for field, value in (
        ("label", label),
        ("suggested", correction.suggested),
        ("model_version", correction.model_version),
        ("operator", correction.operator),
    ):
        if value is not None and len(value) > NAME_MAX:
            problems.append(FieldProblem(field, "max_length", f"at most {NAME_MAX} characters"))
    if correction.confidence is not None and not 0.0 <= correction.confidence <= 1.0:
        problems.append(FieldProblem("confidence", "range", "must be between 0 and 1"))
    if problems:
        raise InvalidInput(problems)
    return Correction(
        # Kept masked: a caller's phone number or e-mail is often in what was said, and the
        # classifier reads every run of digits as one 0 anyway (ADR 0005).
        text=mask_personal(correction.text),
        label=label,
        at=ensure_utc(correction.at),
        suggested=correction.suggested,
        confidence=correction.confidence,
        model_version=correction.model_version,
        operator=correction.operator,
    )


def training_rows(
    corrections: Iterable[Correction], *, source: str, through_id: int | None = None
) -> LabelledData:
    """Corrections, oldest first, as labelled rows; a text corrected twice keeps its latest
    label. ``source`` names where they were read and ``through_id`` the newest one read."""
    latest: dict[str, Correction] = {}
    for correction in corrections:
        key = normalise(correction.text)
        latest.pop(key, None)  # re-insert so the row order follows the latest choice
        latest[key] = correction
    rows = list(latest.values())
    if not rows:
        return LabelledData([], [], ())
    texts, labels = [c.text for c in rows], [c.label for c in rows]
    fingerprint = training_sha256(texts, labels)
    return LabelledData(texts, labels, (DataSource(source, fingerprint, len(rows), through_id),))


def corrections_file(model_dir: Path) -> Path:
    """The corrections file of one named model (``<data_dir>/classifier/<name>``), as kept
    before the corrections had a table."""
    return model_dir / CORRECTIONS_FILE


def read_corrections(path: Path) -> Iterator[tuple[str, Correction]]:
    """Every correction in a ``corrections.jsonl`` file, oldest first, with the sha256 of its
    line (what makes an import of the file idempotent); a damaged line is named, never skipped."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                correction = check_correction(Correction.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError, InvalidInput) as exc:
                raise InvalidInput.one(
                    "corrections",
                    "jsonl",
                    f"{path} line {number} is not a correction: {exc}",
                    record=str(number),
                ) from None
            yield hashlib.sha256(line.strip().encode("utf-8")).hexdigest(), correction


# An offset's + typed into a query string unencoded arrives as a space (2026-03-01T08:00 08:00).
_SPACED_OFFSET = re.compile(
    r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)"
)


def _instant(
    value: str, field: str, timezone: str, out: list[FieldProblem], *, day_end: bool
) -> datetime | None:
    """A date or a date and time, without an offset in the city's time, as UTC; a date alone is
    the start of that day, or of the next with ``day_end`` (so the day it names is counted
    whole)."""
    text = value.strip()
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced is not None:
        text = f"{spaced[1]}+{spaced[2]}"
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            found = datetime.combine(day, time())
        else:
            found = datetime.fromisoformat(text)
    except ValueError:
        out.append(
            FieldProblem(
                field, "iso_date", "a date (2026-11-01) or a date and time (2026-11-01T08:00)"
            )
        )
        return None
    try:
        if day_end and len(text) == 10:
            found += timedelta(days=1)
        # In UTC here, not at the database: 0001-01-01 in the city's time is before year 1 in
        # UTC, which no datetime holds.
        return (found if found.tzinfo else found.replace(tzinfo=ZoneInfo(timezone))).astimezone(UTC)
    except OverflowError:
        out.append(FieldProblem(field, "range", "a time between the years 1 and 9999 in UTC"))
        return None


def decided_window(
    since: str | None, until: str | None, timezone: str
) -> tuple[datetime | None, datetime | None]:
    """The corrections decided from ``since`` (inclusive) to ``until`` (exclusive), as given
    at the console or in a query: each a date or a date and time; a date ``until`` counts its
    whole day. Every broken rule at once, an ``until`` not after ``since`` among them."""
    out: list[FieldProblem] = []
    start = None if since is None else _instant(since, "since", timezone, out, day_end=False)
    end = None if until is None else _instant(until, "until", timezone, out, day_end=True)
    if start is not None and end is not None and end <= start:
        out.append(FieldProblem("until", "end_not_before_start", "until must be after since"))
    if out:
        raise InvalidInput(out)
    return start, end
