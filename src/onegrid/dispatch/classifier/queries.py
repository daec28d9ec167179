"""Reads of the operators' corrections: for training, and for analysts (newest last)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.dispatch.classifier.corrections import Correction, training_rows
from onegrid.dispatch.classifier.dataset import LabelledData
from onegrid.dispatch.models import ClassifierCorrectionRow

TABLE = ClassifierCorrectionRow.__tablename__


@dataclass(frozen=True)
class KeptCorrection:
    """A row of ``classifier_corrections``, readable once its session is closed."""

    id: int
    model: str
    decided_at: datetime
    decided_by: str
    call_id: int | None
    case_id: int | None
    text: str
    chosen_category: str
    suggested_category: str | None
    suggested_confidence: float | None
    model_version: str | None
    import_key: str | None

    @property
    def confirmed(self) -> bool:
        return self.suggested_category == self.chosen_category

    @classmethod
    def of(cls, row: ClassifierCorrectionRow) -> KeptCorrection:
        return cls(
            row.id,
            row.model,
            row.decided_at,
            row.decided_by,
            row.call_id,
            row.case_id,
            row.text,
            row.chosen_category,
            row.suggested_category,
            row.suggested_confidence,
            row.model_version,
            row.import_key,
        )


def list_corrections(
    session: Session,
    *,
    model: str | None = None,
    since: datetime | None = None,
    through_id: int | None = None,
) -> list[KeptCorrection]:
    """Corrections in the order they were kept; of one model, decided at or after ``since``,
    up to the id ``through_id``."""
    c = ClassifierCorrectionRow
    query = select(c).order_by(c.id)
    if model is not None:
        query = query.where(c.model == model)
    if since is not None:
        query = query.where(c.decided_at >= since)
    if through_id is not None:
        query = query.where(c.id <= through_id)
    return [KeptCorrection.of(row) for row in session.scalars(query)]


def training_rows_from_corrections(session: Session, model: str) -> LabelledData:
    """The corrections kept for ``model`` as labelled rows (a text corrected twice keeps its
    latest label), named in the model's card by the newest correction's id."""
    rows = list_corrections(session, model=model)
    corrections = (
        Correction(
            r.text,
            r.chosen_category,
            r.decided_at,
            suggested=r.suggested_category,
            confidence=r.suggested_confidence,
            model_version=r.model_version,
            operator=r.decided_by,
        )
        for r in rows
    )
    return training_rows(
        corrections,
        source=f"database:{TABLE}?model={model}",
        through_id=rows[-1].id if rows else None,
    )
