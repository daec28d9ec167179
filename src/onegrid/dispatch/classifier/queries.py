"""Reads of the operators' corrections: for training, and for analysts (newest last), as
rows or as the CSV the console and the API both give out."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onegrid.core.cursors import decode_id_cursor, encode_cursor
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.dispatch.classifier.corrections import Correction, training_rows
from onegrid.dispatch.classifier.dataset import LabelledData
from onegrid.dispatch.classifier.features import mask_personal
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
            # Masked again as read: rows kept before the desk masked them (or masked only
            # digits) may hold a caller's phone number or e-mail; masking twice changes nothing.
            mask_personal(row.text),
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
    until: datetime | None = None,
    through_id: int | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[KeptCorrection]:
    """Corrections in the order they were kept; of one model, decided at or after ``since``
    and before ``until``, after the id ``after_id`` (a page's last) up to ``through_id``, at
    most ``limit`` of them."""
    c = ClassifierCorrectionRow
    query = select(c).order_by(c.id).limit(limit)
    if model is not None:
        query = query.where(c.model == model)
    if since is not None:
        query = query.where(c.decided_at >= since)
    if until is not None:
        query = query.where(c.decided_at < until)
    if through_id is not None:
        query = query.where(c.id <= through_id)
    if after_id is not None:
        query = query.where(c.id > after_id)
    return [KeptCorrection.of(row) for row in session.scalars(query)]


PAGE_MAX = 500


@dataclass(frozen=True)
class CorrectionPage:
    items: list[KeptCorrection]
    next_cursor: str | None


def corrections_page(
    session: Session,
    *,
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> CorrectionPage:
    """``list_corrections`` a page at a time, oldest first; pass ``next_cursor`` back for the
    next page (None on the last)."""
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput.one("limit", "range", f"limit must be 1 to {PAGE_MAX}")
    after = decode_id_cursor(cursor) if cursor else None
    rows = list_corrections(
        session, model=model, since=since, until=until, after_id=after, limit=limit + 1
    )
    items = rows[:limit]
    more = len(rows) > limit
    return CorrectionPage(items, encode_cursor(str(items[-1].id)) if more and items else None)


CSV_COLUMNS = (
    "id", "model", "decided_at", "decided_by", "call_id", "case_id", "text",
    "suggested_category", "suggested_confidence", "chosen_category", "confirmed", "model_version",
)  # fmt: skip


def iter_corrections(
    db: Database,
    *,
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = PAGE_MAX,
) -> Iterator[KeptCorrection]:
    """``list_corrections`` read ``batch`` rows at a time by id, each batch in a short read of
    its own: an export of years of them never holds more than one batch, nor a connection
    while a slow client reads (or a thread it was not opened in). Rows kept after the first
    batch is read are left to the next export."""
    through: int | None = None
    after: int | None = None
    while True:
        with db.reader() as session:
            if through is None:
                through = session.scalar(select(func.max(ClassifierCorrectionRow.id)))
                if through is None:
                    return
            rows = list_corrections(
                session, model=model, since=since, until=until, through_id=through,
                after_id=after, limit=batch,
            )  # fmt: skip
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(…), +cmd|…):
# a caller's words must stay words, so such a cell starts with an apostrophe (OWASP's advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_row(r: KeptCorrection) -> tuple[object, ...]:
    return tuple(
        _cell(v)
        for v in (
            r.id, r.model, r.decided_at.isoformat(), r.decided_by, r.call_id, r.case_id,
            r.text, r.suggested_category, r.suggested_confidence, r.chosen_category,
            r.confirmed, r.model_version,
        )
    )  # fmt: skip


class _Line:
    """What ``csv.writer`` writes, handed back instead of kept."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def corrections_csv(rows: Iterable[KeptCorrection], *, lines_per_chunk: int = 200) -> Iterator[str]:
    """The corrections as CSV for analysts, a chunk of lines at a time: every column, UTC times
    in ISO 8601, no cell a spreadsheet would run as a formula."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    chunk = [line.text]
    for r in rows:
        writer.writerow(_csv_row(r))
        chunk.append(line.text)
        if len(chunk) >= lines_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


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
