"""The one write path of the operators' corrections (``classifier_corrections``).

The desk keeps a correction in the transaction that records its call (``keep_correction_in``),
so a call that is refused leaves none and a kept correction always has its call. The console
adds one (``correct``), and ``import_corrections`` brings in a ``corrections.jsonl`` file kept
before the table existed, once: each line's sha256 is kept beside its row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.dispatch.classifier.corrections import (
    CONSOLE,
    NAME_MAX,
    Correction,
    check_correction,
    corrections_file,
    read_corrections,
)
from onegrid.dispatch.classifier.queries import KeptCorrection
from onegrid.dispatch.models import ClassifierCorrectionRow


def _check_model(model: str) -> str:
    name = model.strip()
    if not name or len(name) > NAME_MAX:
        raise InvalidInput.one("model", "name", f"a model's name has 1 to {NAME_MAX} characters")
    return name


def _row(
    model: str,
    correction: Correction,
    *,
    call_id: int | None = None,
    case_id: int | None = None,
    import_key: str | None = None,
) -> ClassifierCorrectionRow:
    return ClassifierCorrectionRow(
        model=model,
        decided_at=correction.at,
        decided_by=correction.operator or CONSOLE,
        call_id=call_id,
        case_id=case_id,
        text=correction.text,
        chosen_category=correction.label,
        suggested_category=correction.suggested,
        suggested_confidence=correction.confidence,
        model_version=correction.model_version,
        import_key=import_key,
    )


def keep_correction_in(
    session: Session,
    model: str,
    correction: Correction,
    *,
    call_id: int | None = None,
    case_id: int | None = None,
) -> ClassifierCorrectionRow:
    """Keep the operator's choice for the model ``model`` in the caller's transaction."""
    row = _row(_check_model(model), check_correction(correction), call_id=call_id, case_id=case_id)
    session.add(row)
    session.flush()
    return row


def correct(
    db: Database,
    model: str,
    *,
    text: str,
    label: str,
    clock: Clock,
    suggested: str | None = None,
    decided_by: str = CONSOLE,
) -> KeptCorrection:
    """An operator's choice given at the console (``onegrid classifier correct``)."""
    correction = Correction(text, label, clock.now(), suggested=suggested, operator=decided_by)
    with one_writer(db.dialect), db.unit_of_work() as session:
        return KeptCorrection.of(keep_correction_in(session, model, correction))


@dataclass(frozen=True)
class ImportResult:
    path: Path
    read: int  # corrections in the file
    added: int  # of which new: the others were imported before


def import_key(model: str, line_sha256: str) -> str:
    """What names a line of a model's file: the same line in another model's file is another
    correction."""
    return hashlib.sha256(f"{model}\x1f{line_sha256}".encode()).hexdigest()


def import_corrections(db: Database, model_dir: Path) -> ImportResult:
    """Add the corrections of ``<model_dir>/corrections.jsonl`` not imported yet, in one
    transaction; the file is left as it is (nothing writes it any more)."""
    model = _check_model(model_dir.name)
    path = corrections_file(model_dir)
    found = [(import_key(model, sha), c) for sha, c in read_corrections(path)]
    if not found:
        return ImportResult(path, 0, 0)
    with one_writer(db.dialect), db.unit_of_work() as session:
        known = set(
            session.scalars(
                select(ClassifierCorrectionRow.import_key).where(
                    ClassifierCorrectionRow.model == model,
                    ClassifierCorrectionRow.import_key.is_not(None),
                )
            )
        )
        new: dict[str, Correction] = {}
        for key, correction in found:
            if key not in known:
                new.setdefault(key, correction)  # a line written twice is one correction
        session.add_all(_row(model, c, import_key=key) for key, c in new.items())
    return ImportResult(path, len(found), len(new))
