"""The category classifier's training data over HTTP: the operators' corrections, a page at a
time or as the CSV ``onegrid classifier corrections list --csv`` prints.

Corrections belong to no area or department, so only city-wide grants reach them; and their
texts are what callers said, so ``analytics.export`` is not enough: the caller must also be
allowed to read reporters' personal data (``case.read_personal_data``), city-wide. A city
admin, a shift leader, or a city-wide dispatcher or department handler is; an analyst alone is
not. Their texts come masked as they are kept: numbers in digits or read out in Chinese, and
e-mail addresses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from onegrid.api.auth import requires
from onegrid.api.deps import AppSettings, DbSession, get_database
from onegrid.db.session import Database
from onegrid.dispatch.classifier.corrections import decided_window
from onegrid.dispatch.classifier.queries import (
    PAGE_MAX,
    corrections_csv,
    corrections_page,
    iter_corrections,
)
from onegrid.dispatch.classifier.schemas import CorrectionPageOut
from onegrid.people.domain import Principal
from onegrid.people.policy import require

router = APIRouter(prefix="/classifier", tags=["classifier"])
PERMISSION = "analytics.export"
# What a caller said may hold a name, an address or a story: personal data, whatever masking
# catches, so only those who may read reporters' personal data read it.
PERSONAL_DATA = "case.read_personal_data"
Exporter = Annotated[Principal, requires(PERMISSION)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Sign in first"},
    403: {
        "description": "No city-wide `analytics.export` grant, or none that may read reporters' "
        "personal data (`case.read_personal_data`)"
    },
    422: {
        "description": "A bad `since`, `until` (not a date, outside the years 1 to 9999, or "
        "not after `since`) or `cursor`, named in errors[].field"
    },
}
Model = Annotated[
    str | None,
    Query(max_length=64, description="Only this classifier's corrections", examples=["default"]),
]
Since = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Decided at or after: a date (from its start) or a date and time; without "
        "an offset, in the city's time. An offset's `+` may come unencoded (read as a space)",
        examples=["2026-03-01", "2026-03-01T08:00+08:00"],
    ),
]
Until = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Decided before: a date (counted whole) or a date and time; without an "
        "offset, in the city's time. After `since`. An offset's `+` may come unencoded",
        examples=["2026-03-31"],
    ),
]


def _city_wide(principal: Principal) -> None:
    # Checked with no area: a correction has none, so an area or department grant reaches none.
    require(principal, PERMISSION)
    require(principal, PERSONAL_DATA)


@router.get(
    "/corrections",
    summary="The operators' corrections of suggested categories, oldest first, by cursor",
    response_model=CorrectionPageOut,
    responses=_ERRORS,
)
def corrections(
    session: DbSession,
    principal: Exporter,
    settings: AppSettings,
    model: Model = None,
    since: Since = None,
    until: Until = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
) -> CorrectionPageOut:
    _city_wide(principal)
    start, end = decided_window(since, until, settings.timezone)
    page = corrections_page(
        session, model=model, since=start, until=end, cursor=cursor, limit=limit
    )
    return CorrectionPageOut.of(page)


@router.get(
    "/corrections/export",
    summary="The operators' corrections as CSV, every column, UTC times",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`classifier_corrections.csv`: the columns of "
            "`onegrid classifier corrections list --csv`",
            "content": {
                "text/csv": {
                    "example": "id,model,decided_at,decided_by,call_id,case_id,text,"
                    "suggested_category,suggested_confidence,chosen_category,confirmed,"
                    "model_version\n118,default,2026-03-02T01:00:00+00:00,user:32,57,1042,"
                    "电话 0 人民路0号门口垃圾堆积,E0103,0.62,E0102,False,2026.11.30-1\n"
                }
            },
        },
        **_ERRORS,
    },
)
def corrections_export(
    principal: Exporter,
    settings: AppSettings,
    db: Annotated[Database, Depends(get_database)],
    model: Model = None,
    since: Since = None,
    until: Until = None,
) -> StreamingResponse:
    # Refused (403, 422) before the first byte: once streaming, the status is sent.
    _city_wide(principal)
    start, end = decided_window(since, until, settings.timezone)
    rows = iter_corrections(db, model=model, since=start, until=end)
    return StreamingResponse(
        corrections_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="classifier_corrections.csv"'},
    )
