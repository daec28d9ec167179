"""Analytics over the lake: evaluation indicators, the monthly ranking, hotspots (read-only)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pyarrow as pa
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from onegrid.analytics import evaluation
from onegrid.analytics.composite import department_composite
from onegrid.analytics.datasets import Catalogue, CatalogueRow, require_read
from onegrid.analytics.exports import MEDIA as EXPORT_MEDIA
from onegrid.analytics.exports import check_format as check_export_format
from onegrid.analytics.exports import export_for, write_cases
from onegrid.analytics.findings import (
    BACKTEST_YEARS,
    backtest,
    daily_spikes,
    forecast,
    spikes,
    topic_candidates,
    topic_tracking,
)
from onegrid.analytics.hotspots import MIN_COUNT, emerging_hotspots, hotspots
from onegrid.analytics.lake import Lake
from onegrid.analytics.opendata import (
    OpenData,
    check_formats,
    dataset_extract,
    extract_for,
    write_file,
)
from onegrid.analytics.period import Period
from onegrid.analytics.proactive import AcceptedForecast, open_proactive_cases
from onegrid.analytics.report import monthly_report
from onegrid.analytics.scheduler import refresh_forever
from onegrid.analytics.settings import analytics_settings
from onegrid.analytics.topics import CityNames, TopicChoice, TopicChoices, tracked
from onegrid.api.auth import AnyPrincipal, CurrentPrincipal, requires
from onegrid.api.background import running
from onegrid.api.deps import AppClock, AppSettings, get_database
from onegrid.cases.config import case_rules
from onegrid.core.clock import city_today
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.db.session import Database
from onegrid.people import policy
from onegrid.people.domain import Principal


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Refresh the lake on the configured interval while the app serves."""
    config = analytics_settings()
    settings = app.state.settings
    job = (
        refresh_forever(
            app.state.db,
            settings.data_dir,
            settings.secret_key.encode(),
            config.refresh_interval_seconds,
        )
        if config.refresh_enabled
        else None
    )
    async with running(job):
        yield


router = APIRouter(prefix="/analytics", tags=["analytics"], lifespan=_lifespan)
Reader = Annotated[Principal, requires("analytics.read")]
Creator = Annotated[Principal, requires("case.create")]
Publisher = Annotated[Principal, requires("analytics.publish")]
Exporter = Annotated[Principal, requires("analytics.export")]
TopicChooser = Annotated[Principal, requires("analytics.choose_topic")]
Month = Annotated[str, Query(description="YYYY-MM", examples=["2026-03"])]
Grain = Annotated[str, Query(description="day, week, month or period")]
MinCount = Annotated[
    int, Query(ge=1, description="the fewest cases of its own a cell needs to be reported hot")
]


def _lake(settings: AppSettings) -> Lake:
    return Lake.under(settings.data_dir)


def _rows(table: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _per_period(
    indicators: Callable[[duckdb.DuckDBPyConnection, Period, str], pa.Table],
    settings: AppSettings,
    start: date,
    end: date,
    grain: str,
) -> list[dict[str, Any]]:
    return _rows(
        indicators(_lake(settings).connect(), Period(start, end, settings.timezone), grain)
    )


@router.get("/ranking", summary="The monthly three-rate ranking")
def get_ranking(
    principal: Reader,
    settings: AppSettings,
    month: Month,
    unit: str = "subdistrict",
    area: str | None = None,
) -> dict[str, Any]:
    con = _lake(settings).connect()
    r = evaluation.ranking(con, month, unit, tz=settings.timezone, area=area)
    return {
        "month": r.month,
        "unit": r.unit,
        "rules_version": r.rules.version,
        "weights": r.rules.weights,
        "rows": _rows(r.table),
    }


@router.get("/departments", summary="Department indicators per period")
def get_departments(
    principal: Reader, settings: AppSettings, start: date, end: date, grain: Grain = "period"
) -> list[dict[str, Any]]:
    return _per_period(evaluation.department_indicators, settings, start, end, grain)


@router.get("/departments/on-time", summary="Each department's on-time close rate per period")
def get_department_on_time(
    principal: Reader, settings: AppSettings, start: date, end: date, grain: Grain = "period"
) -> list[dict[str, Any]]:
    return _per_period(evaluation.on_time_close, settings, start, end, grain)


@router.get("/departments/composite", summary="The monthly department composite score and band")
def get_department_composite(
    principal: Reader, settings: AppSettings, month: Month
) -> dict[str, Any]:
    c = department_composite(_lake(settings).connect(), month, tz=settings.timezone)
    return {
        "month": c.month,
        "rules_version": c.rules.version,
        "items": [i.__dict__ for i in c.rules.items],
        "bands": c.rules.bands,
        "rows": _rows(c.table),
    }


@router.get("/areas", summary="Area indicators per period at one level")
def get_areas(
    principal: Reader,
    settings: AppSettings,
    start: date,
    end: date,
    level: str = "subdistrict",
    grain: Grain = "period",
) -> list[dict[str, Any]]:
    period = Period(start, end, settings.timezone)
    return _rows(evaluation.area_indicators(_lake(settings).connect(), period, level, grain))


@router.get("/posts", summary="Post (person and role) indicators per period")
def get_posts(
    principal: Reader, settings: AppSettings, start: date, end: date, grain: Grain = "period"
) -> list[dict[str, Any]]:
    return _per_period(evaluation.post_indicators, settings, start, end, grain)


@router.get("/hotspots", summary="Significant hot H3 cells (Gi*, BH-corrected)")
def get_hotspots(
    principal: Reader,
    settings: AppSettings,
    category: str,
    start: date,
    end: date,
    min_count: MinCount = MIN_COUNT,
) -> list[dict[str, Any]]:
    period = Period(start, end, settings.timezone)
    found = hotspots(_lake(settings).connect(), category, period, min_count=min_count)
    return [h.__dict__ for h in found]


@router.get("/report", summary="The monthly evaluation report (HTML)", response_class=HTMLResponse)
def get_report(principal: Reader, settings: AppSettings, month: Month) -> HTMLResponse:
    return HTMLResponse(monthly_report(_lake(settings).connect(), month, settings.timezone))


@router.get("/spikes", summary="Categories far above their seasonal baseline this week or today")
def get_spikes(
    principal: Reader,
    settings: AppSettings,
    week_of: Annotated[date | None, Query(description="a day of the week to scan")] = None,
    day: Annotated[date | None, Query(description="the one day to scan")] = None,
    level: str = "subdistrict",
) -> list[dict[str, Any]]:
    if (week_of is None) == (day is None):
        raise InvalidInput(
            [
                FieldProblem(name, "exactly_one_of", "give exactly one of week_of and day")
                for name in ("week_of", "day")
            ]
        )
    con = _lake(settings).connect()
    if day is not None:
        found = daily_spikes(con, day, level, tz=settings.timezone)
    else:
        assert week_of is not None
        found = spikes(con, week_of, level, tz=settings.timezone)
    return [s.__dict__ for s in found]


@router.get("/topics", summary="One topic a month: candidate problems")
def get_topics(principal: Reader, settings: AppSettings, month: Month) -> list[dict[str, Any]]:
    return _rows(topic_candidates(_lake(settings).connect(), month, tz=settings.timezone))


class ChoiceIn(BaseModel):
    category_code: str
    area_code: str | None = None
    note: str = ""


def _choice_out(
    choice: TopicChoice, con: duckdb.DuckDBPyConnection, clock: AppClock, tz: str
) -> dict[str, Any]:
    return {
        **choice.as_dict(),
        "tracking": _rows(tracked(con, choice, city_today(clock, tz), tz)),
    }


@router.get("/topics/chosen", summary="The chosen topics, each tracked month on month since")
def get_chosen_topics(
    principal: Reader, settings: AppSettings, clock: AppClock
) -> list[dict[str, Any]]:
    con = _lake(settings).connect()
    chosen = TopicChoices.under(settings.data_dir).chosen()
    return [_choice_out(c, con, clock, settings.timezone) for c in chosen]


@router.post("/topics/{month}/choice", summary="Choose the month's topic (每月一题)")
def post_topic_choice(
    principal: TopicChooser,
    db: Annotated[Database, Depends(get_database)],
    settings: AppSettings,
    clock: AppClock,
    month: str,
    body: ChoiceIn,
) -> dict[str, Any]:
    policy.require(principal, "analytics.choose_topic")  # no area: city-wide grants only

    names = CityNames(db)
    choice = TopicChoices.under(settings.data_dir).choose(
        month,
        body.category_code,
        known_category=names.category,
        known_area=names.area,
        area_code=body.area_code,
        note=body.note,
        chosen_by=principal.name,
        clock=clock,
    )
    return _choice_out(choice, _lake(settings).connect(), clock, settings.timezone)


@router.get("/topics/{category}", summary="A topic's month-on-month tracking")
def get_topic_tracking(
    principal: Reader,
    settings: AppSettings,
    category: str,
    start: date,
    end: date,
    area: str | None = None,
) -> list[dict[str, Any]]:
    period = Period(start, end, settings.timezone)
    return _rows(topic_tracking(_lake(settings).connect(), category, period, area))


@router.get("/forecast", summary="Seasonal forecast per category and area (未诉先办)")
def get_forecast(
    principal: Reader,
    settings: AppSettings,
    origin: Annotated[date, Query(description="a month's first day, or a Monday for weeks")],
    months: Annotated[int, Query(ge=1, le=24)] = 3,
    weeks: Annotated[int, Query(ge=1, le=104, description="with grain=week")] = 8,
    level: str = "district",
    grain: Annotated[str, Query(description="month or week (ISO weeks)")] = "month",
) -> list[dict[str, Any]]:
    con = _lake(settings).connect()
    periods = weeks if grain == "week" else months
    return _rows(forecast(con, origin, periods, level, tz=settings.timezone, grain=grain))


@router.get("/forecast/backtest", summary="A year forecast from the years before it")
def get_backtest(
    principal: Reader,
    settings: AppSettings,
    year: Annotated[int, Query(description=f"from {BACKTEST_YEARS[0]} to {BACKTEST_YEARS[-1]}")],
    level: str = "district",
    grain: Annotated[str, Query(description="month or week (ISO weeks)")] = "month",
) -> dict[str, Any]:
    result = backtest(_lake(settings).connect(), year, level, tz=settings.timezone, grain=grain)
    return {**result.__dict__, "skill": result.skill}


class AcceptedIn(BaseModel):
    category_code: str
    area_code: str
    month: date | None = Field(None, description="the month forecast (a monthly forecast's row)")
    week: date | None = Field(None, description="a day of the ISO week forecast (a weekly row)")
    forecast: float


class OpenedOut(BaseModel):
    category_code: str
    area_code: str
    month: date | None
    week: date | None
    period: str = Field(description="the month (2026-04) or ISO week (2026-W14) forecast")
    case_number: str
    created: bool


def _accepted(rows: list[AcceptedIn]) -> list[AcceptedForecast]:
    """Every row checked before a case is opened, so bad input opens none."""
    accepted, problems = [], []
    for i, a in enumerate(rows):
        if a.week is not None and a.month is None:
            accepted.append(
                AcceptedForecast(a.category_code, a.area_code, a.week, a.forecast, "week")
            )
        elif a.month is not None and a.week is None:
            accepted.append(AcceptedForecast(a.category_code, a.area_code, a.month, a.forecast))
        else:
            problems += [
                FieldProblem(n, "exactly_one_of", "give exactly one of month and week", str(i))
                for n in ("month", "week")
            ]
    if problems:
        raise InvalidInput(problems)
    return accepted


@router.post(
    "/proactive",
    summary="Open proactive cases for accepted forecasts (未诉先办)",
    response_model=list[OpenedOut],
)
def post_proactive(
    principal: Creator,
    db: Annotated[Database, Depends(get_database)],
    clock: AppClock,
    settings: AppSettings,
    accepted: list[AcceptedIn],
) -> list[OpenedOut]:
    opened = open_proactive_cases(
        db, principal, _accepted(accepted), clock=clock, rules=case_rules(settings.timezone)
    )
    return [
        OpenedOut(
            category_code=o.forecast.category_code,
            area_code=o.forecast.area_code,
            month=o.forecast.bucket if o.forecast.grain == "month" else None,
            week=o.forecast.bucket if o.forecast.grain == "week" else None,
            period=o.forecast.period,
            case_number=o.case.number,
            created=o.created,
        )
        for o in opened
    ]


@router.get("/hotspots/emerging", summary="Hotspots new or rising against a year before")
def get_emerging(
    principal: Reader,
    settings: AppSettings,
    category: str,
    start: date,
    end: date,
    min_count: MinCount = MIN_COUNT,
) -> list[dict[str, Any]]:
    period = Period(start, end, settings.timezone)
    found = emerging_hotspots(_lake(settings).connect(), category, period, min_count=min_count)
    return [
        {
            **e.hotspot.__dict__,
            "count_year_before": e.count_year_before,
            "new": e.new,
            "rising": e.rising,
            "p_rising": e.p_rising,
        }
        for e in found
    ]


# -- the dataset catalogue and open data ------------------------------------------------------


def _catalogue(settings: AppSettings) -> Catalogue:
    return Catalogue.under(settings.data_dir)


@router.get("/datasets", summary="The dataset catalogue: the datasets you may read")
def get_datasets(principal: CurrentPrincipal, settings: AppSettings) -> list[dict[str, Any]]:
    return [CatalogueRow.of(e).__dict__ for e in _catalogue(settings).visible_to(principal)]


@router.get("/datasets/{name}", summary="One dataset's catalogue entry: schema, owner, lineage")
def get_dataset(principal: CurrentPrincipal, settings: AppSettings, name: str) -> dict[str, Any]:
    entry = _catalogue(settings).entry(name)
    require_read(principal, entry)
    return entry.as_dict()


def _jsonable(row: dict[str, Any], geometry: str | None) -> dict[str, Any]:
    if geometry and row.get(geometry) is not None:
        import shapely

        row[geometry] = shapely.geometry.mapping(shapely.from_wkb(row[geometry]))
    return row


@router.get("/datasets/{name}/rows", summary="Read a dataset's rows, a page at a time")
def get_dataset_rows(
    principal: CurrentPrincipal,
    settings: AppSettings,
    name: str,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    entry, table = _catalogue(settings).read(principal, name)
    page = table.slice(offset, limit).to_pylist()
    return {
        "name": entry.name,
        "version": entry.version,
        "total": table.num_rows,
        "offset": offset,
        "rows": [_jsonable(r, entry.spec.geometry) for r in page],
    }


_MEDIA = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "geojson": "application/geo+json",
}


@router.get("/datasets/{name}/file", summary="Download a dataset as CSV, Parquet or GeoJSON")
def get_dataset_file(
    principal: CurrentPrincipal,
    settings: AppSettings,
    name: str,
    fmt: Annotated[str, Query(alias="format", description="csv, parquet or geojson")] = "csv",
) -> FileResponse:
    catalogue = _catalogue(settings)
    extract = dataset_extract(catalogue, principal, name, open_only=False)
    check_formats([fmt], extract)
    folder = Path(tempfile.mkdtemp(prefix="onegrid-dataset-"))
    path = folder / f"{name}.{fmt}"
    write_file(extract, fmt, path)
    return FileResponse(
        path,
        media_type=_MEDIA[fmt],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get(
    "/exports/cases",
    summary="Download the lake's cases in a period, as far as your grants reach",
    description=(
        "One row per case created from `start` to `end` (local days, inclusive), not merged: "
        "every case for a city-wide grant, an area grant's cases (any level of its area chain), "
        "a department grant's assigned cases; `area` narrows further. Exact places are kept; "
        "the reporter fields (`reporter_key`, `created_by`) only where `case.read_personal_data` "
        "reaches, and absent for a reader it reaches nowhere. Needs `analytics.export`."
    ),
    response_class=FileResponse,
    responses={
        200: {
            "description": "The file, named `cases_<start>_<end>[_<area>].<format>`",
            "content": {
                "text/csv": {
                    "example": "number,category_code,…,created_at,…\n"
                    "2026020200001,E0102,…,2026-02-02 01:00:00.000000Z,…\n"
                },
                "application/vnd.apache.parquet": {},
                "application/geo+json": {},
            },
        },
        403: {"description": "No `analytics.export` grant"},
        422: {"description": "`end` before `start`, an unknown `format` or `area`"},
    },
)
def get_case_export(
    principal: Exporter,
    settings: AppSettings,
    start: Annotated[date, Query(description="First local day", examples=["2026-02-01"])],
    end: Annotated[date, Query(description="Last local day", examples=["2026-02-28"])],
    fmt: Annotated[str, Query(alias="format", description="csv, parquet or geojson")] = "csv",
    area: Annotated[
        str | None, Query(description="Only this area (any level)", examples=["110101"])
    ] = None,
) -> FileResponse:
    check_export_format(fmt)
    export = export_for(principal, Period(start, end, settings.timezone), area)
    folder = Path(tempfile.mkdtemp(prefix="onegrid-export-"))
    try:
        path = folder / f"{export.filename_stem}.{fmt}"
        write_cases(_lake(settings).connect(), export, fmt, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=EXPORT_MEDIA[fmt],
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.post("/open-data/{source}", summary="Publish open data: cases, case_counts or a dataset")
def post_open_data(
    principal: Publisher,
    settings: AppSettings,
    clock: AppClock,
    source: str,
    formats: Annotated[
        str, Query(description="comma-separated: csv, parquet, geojson")
    ] = "csv,parquet",
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    extract = extract_for(settings, principal, source, start, end)
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    return OpenData.under(settings.data_dir).publish(extract, chosen, clock)


@router.get("/open-data", summary="Published open data: the latest manifest of each")
def get_open_data(principal: AnyPrincipal, settings: AppSettings) -> list[dict[str, Any]]:
    return OpenData.under(settings.data_dir).manifests()


@router.get("/open-data/{name}/{filename}", summary="A file of the latest publication")
def get_open_data_file(
    principal: AnyPrincipal, settings: AppSettings, name: str, filename: str
) -> FileResponse:
    path = OpenData.under(settings.data_dir).file(name, filename)
    suffix = path.suffix.lstrip(".")
    return FileResponse(path, media_type=_MEDIA.get(suffix, "application/json"), filename=path.name)
