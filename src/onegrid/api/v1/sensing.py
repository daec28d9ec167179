"""Sensing over HTTP: batch ingest, devices, time series, alerts, rules, ingest statistics,
parking areas for shared bikes.

Posting readings needs ``sensing.ingest`` (the sensor_gateway role); registering devices, rules
and parking areas ``sensing.admin``. Reading devices, series, alerts and parking areas is for
staff (``assets.read``) and for sensor gateways.

While the app serves on the embedded default (SQLite), it rolls older readings into the lake on
a schedule (``sensing.scheduler``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from onegrid.api.auth import AnyPrincipal, requires
from onegrid.api.background import running
from onegrid.api.deps import AppClock, AppSettings, DbSession
from onegrid.api.ids import Offset, row_id
from onegrid.api.problems import problem
from onegrid.cases.config import case_rules
from onegrid.core.errors import InvalidInput, NotAuthenticated, PermissionDenied
from onegrid.db.session import Database
from onegrid.people.domain import Principal
from onegrid.people.policy import can_somewhere
from onegrid.sensing import alerting, bikewatch, queries, services
from onegrid.sensing.config import device_kinds
from onegrid.sensing.domain.devices import DeviceDraft
from onegrid.sensing.domain.parking import check_area, list_key, parse_areas
from onegrid.sensing.domain.units import QUANTITIES
from onegrid.sensing.ingest.http import ingest_batch
from onegrid.sensing.ingest.pipeline import Pipeline, StoreUnavailable
from onegrid.sensing.scheduler import roll_forever, roll_scheduled
from onegrid.sensing.schemas import (
    READINGS_BATCH_SCHEMA,
    AlertOut,
    BikeAreaIn,
    BikeAreaOut,
    BikeAreasLoadedOut,
    DeadLetterOut,
    DeviceIn,
    DeviceKindOut,
    DeviceOut,
    DevicePageOut,
    IngestResultOut,
    IngestStatsOut,
    RulesChangedOut,
    RulesIn,
    SeriesOut,
)
from onegrid.sensing.series import period, series
from onegrid.sensing.settings import sensing_settings


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Roll older readings into the lake on the configured interval while the app serves (the
    embedded default only: see ``sensing.scheduler``)."""
    config = sensing_settings()
    db: Database = app.state.db
    job = (
        roll_forever(
            db,
            config.lake_root(app.state.settings.data_dir),
            app.state.clock,
            config.keep_days,
            config.roll_interval_s,
        )
        if roll_scheduled(db, config)
        else None
    )
    async with running(job):
        yield


router = APIRouter(prefix="/sensing", tags=["sensing"], lifespan=_lifespan)
READ_ACTIONS = ("assets.read", "sensing.ingest", "sensing.admin")
_pipeline_lock = threading.Lock()


def reader(principal: AnyPrincipal) -> Principal:
    """Staff who see the inventory, and sensor gateways."""
    if any(can_somewhere(principal, a) for a in READ_ACTIONS):
        return principal
    if principal.is_anonymous:
        raise NotAuthenticated("sign in to see sensor data")
    raise PermissionDenied("seeing sensor data needs assets.read, sensing.ingest or sensing.admin")


Reader = Annotated[Principal, Depends(reader)]
Admin = Annotated[Principal, requires("sensing.admin")]
Gateway = Annotated[Principal, requires("sensing.ingest")]
AlertId = Annotated[int, Path(description="An alert's id"), row_id(lambda n: f"no alert {n}")]
DeviceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
AreaCode = Annotated[str, Path(min_length=1, max_length=31, pattern=r"^[^@/]+$")]
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "No or bad credentials"},
    403: {"description": "Not allowed"},
    422: {"description": "Invalid input: application/problem+json naming the field"},
}
RETRY_AFTER_S = 5


def pipeline_of(request: Request) -> Pipeline:
    """The API process's own pipeline (rule state included), made on first use."""
    with _pipeline_lock:
        found: Pipeline | None = getattr(request.app.state, "sensing_pipeline", None)
        if found is None:
            db: Database = request.app.state.db
            found = Pipeline(db, request.app.state.clock, sensing_settings())
            request.app.state.sensing_pipeline = found
        return found


@router.post(
    "/readings",
    summary="Post a batch of readings (all stored, or none and a 422 naming each bad field)",
    response_model=IngestResultOut,
    responses={**_ERRORS, 503: {"description": "The database is busy: nothing stored, retry"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": READINGS_BATCH_SCHEMA}},
        }
    },
)
async def post_readings(
    request: Request, principal: Gateway, clock: AppClock, settings: AppSettings
) -> IngestResultOut | JSONResponse:
    body = await request.body()
    pipeline = pipeline_of(request)
    try:
        outcome = await run_in_threadpool(ingest_batch, pipeline, principal, body)
    except StoreUnavailable as exc:
        response = problem(
            503, "Service Unavailable", str(exc), "unavailable", str(request.url.path)
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    written = outcome.written
    rules = case_rules(settings.timezone)
    db: Database = request.app.state.db

    def open_cases() -> None:
        for alert_id in written.raised:
            alerting.after_raise(db, alert_id, principal, clock, rules)
        for alert_id in written.reopened:
            alerting.after_reopen(db, alert_id, principal, clock, rules)
        for alert_id in written.cleared:
            alerting.after_clear(db, alert_id, clock, rules)

    await run_in_threadpool(open_cases)
    return IngestResultOut(
        accepted=outcome.accepted,
        alerts_raised=written.raised,
        alerts_reopened=written.reopened,
        alerts_cleared=written.cleared,
    )


@router.get(
    "/ingest/stats",
    summary="Readings kept and refused, by source and reason",
    response_model=IngestStatsOut,
    responses=_ERRORS,
)
def ingest_stats(session: DbSession, _who: Reader) -> IngestStatsOut:
    return IngestStatsOut.of(queries.ingest_stats(session))


@router.get(
    "/dead-letters",
    summary="Refused messages and entries, newest first",
    response_model=list[DeadLetterOut],
    responses=_ERRORS,
)
def dead_letters(
    session: DbSession,
    _who: Admin,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[DeadLetterOut]:
    found = queries.list_dead_letters(session, reason=reason, limit=limit, offset=offset)
    return [DeadLetterOut.of(d) for d in found]


@router.get(
    "/device-kinds",
    summary="Kinds of device, the quantities and units they report",
    response_model=list[DeviceKindOut],
)
def list_device_kinds() -> list[DeviceKindOut]:
    return [DeviceKindOut.of(k) for k in device_kinds().values()]


@router.get(
    "/devices",
    summary="Registered devices, in id order, a page at a time",
    response_model=DevicePageOut,
    responses=_ERRORS,
)
def list_devices(
    session: DbSession,
    _who: Reader,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    area: Annotated[str | None, Query(max_length=32, description="An area of any tier")] = None,
    latest: Annotated[bool, Query(description="Add each quantity's latest value")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> DevicePageOut:
    devices = queries.list_devices(session, kind=kind, area=area, limit=limit, offset=offset)
    values = queries.latest_values(session, devices) if latest else {}
    return DevicePageOut(
        total=queries.count_devices(session, kind=kind, area=area),
        items=[DeviceOut.of(d, values.get(d.id) if latest else None) for d in devices],
    )


@router.get(
    "/devices/{device_id}",
    summary="One device with its latest values",
    response_model=DeviceOut,
    responses=_ERRORS,
)
def get_device(session: DbSession, _who: Reader, device_id: DeviceId) -> DeviceOut:
    device = queries.get_device(session, device_id)
    return DeviceOut.of(device, queries.latest_values(session, [device])[device.id])


@router.put(
    "/devices/{device_id}",
    summary="Register a device, or change it",
    response_model=DeviceOut,
    responses=_ERRORS,
)
def put_device(
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    principal: Admin,
    device_id: DeviceId,
    body: DeviceIn,
) -> DeviceOut:
    draft = DeviceDraft(
        device_id,
        body.kind,
        body.lon,
        body.lat,
        body.name,
        body.quantities,
        body.interval_s,
        body.component_id,
        body.owner,
        body.note,
    )
    device = services.register_device(
        session, draft, clock, by=principal, timezone=settings.timezone
    )
    return DeviceOut.of(device)


@router.delete(
    "/devices/{device_id}",
    summary="Retire a device: its readings are refused from now on, its history stays",
    response_model=DeviceOut,
    responses=_ERRORS,
)
def retire_device(
    session: DbSession, clock: AppClock, principal: Admin, device_id: DeviceId
) -> DeviceOut:
    return DeviceOut.of(services.retire_device(session, device_id, clock, by=principal))


@router.get(
    "/series",
    summary="Readings of one quantity over a period, downsampled for charts",
    response_model=SeriesOut,
    responses=_ERRORS,
)
def get_series(
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    _who: Reader,
    quantity: Annotated[str, Query(max_length=32)],
    device: Annotated[list[str] | None, Query(description="Device ids (repeat)")] = None,
    area: Annotated[str | None, Query(max_length=32)] = None,
    start: Annotated[datetime | None, Query(description="Default: end − 24 h")] = None,
    end: Annotated[datetime | None, Query(description="Default: now")] = None,
    bucket_s: Annotated[int | None, Query(ge=1, le=7 * 86400)] = None,
    max_points: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> SeriesOut:
    if quantity not in QUANTITIES:
        raise InvalidInput.one("quantity", "known_quantity", f"unknown quantity {quantity!r}")
    first, last = period(start, end, clock.now())
    result = series(
        session,
        quantity=quantity,
        start=first,
        end=last,
        device_ids=device,
        area=area,
        bucket_s=bucket_s,
        max_points=max_points,
        lake=sensing_settings().lake_root(settings.data_dir),
    )
    return SeriesOut.of(result)


@router.get(
    "/alerts",
    summary="Alerts, newest first",
    response_model=list[AlertOut],
    responses=_ERRORS,
)
def list_alerts(
    session: DbSession,
    _who: Reader,
    status: Annotated[str | None, Query(pattern="^(active|cleared)$")] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    subject: Annotated[str | None, Query(max_length=64)] = None,
    area: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[AlertOut]:
    found = queries.list_alerts(
        session,
        status=status,
        rule_code=rule,
        subject=subject,
        area=area,
        limit=limit,
        offset=offset,
    )
    return [AlertOut.of(a) for a in found]


@router.get("/alerts/{alert_id}", summary="One alert", response_model=AlertOut, responses=_ERRORS)
def get_alert(session: DbSession, _who: Reader, alert_id: AlertId) -> AlertOut:
    return AlertOut.of(queries.get_alert(session, alert_id))


@router.get(
    "/rules",
    summary="The alert rules, as data",
    response_model=list[dict[str, object]],
    responses=_ERRORS,
)
def list_rules(session: DbSession, _who: Reader) -> list[dict[str, object]]:
    return queries.rule_specs(session)


@router.put(
    "/rules",
    summary="Load rules (checked all together; a bad one stores none)",
    response_model=RulesChangedOut,
    responses=_ERRORS,
)
def put_rules(
    session: DbSession, clock: AppClock, principal: Admin, body: RulesIn
) -> RulesChangedOut:
    changed = services.load_rules(session, body.rules, clock, by=principal, replace=body.replace)
    return RulesChangedOut(changed=changed)


@router.get(
    "/bikes/areas",
    summary="Parking areas for shared bikes, with their capacity, in code order",
    response_model=list[BikeAreaOut],
    responses=_ERRORS,
)
def list_bike_areas(
    session: DbSession,
    _who: Reader,
    inactive: Annotated[bool, Query(description="Deactivated areas too")] = False,
) -> list[BikeAreaOut]:
    return [BikeAreaOut.of(a) for a in bikewatch.list_areas(session, include_inactive=inactive)]


@router.get(
    "/bikes/areas/{code}",
    summary="One parking area",
    response_model=BikeAreaOut,
    responses=_ERRORS,
)
def get_bike_area(session: DbSession, _who: Reader, code: AreaCode) -> BikeAreaOut:
    return BikeAreaOut.of(bikewatch.get_area(session, code))


@router.put(
    "/bikes/areas/{code}",
    summary="Add a parking area, or change it (a deactivated one comes back)",
    response_model=BikeAreaOut,
    responses=_ERRORS,
)
def put_bike_area(
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    principal: Admin,
    code: AreaCode,
    body: BikeAreaIn,
) -> BikeAreaOut:
    geometry: Any = body.geometry
    if geometry is None and body.lon is not None and body.lat is not None:
        geometry = {"type": "Point", "coordinates": [body.lon, body.lat]}
    draft, problems = check_area(code, body.name, body.capacity, geometry, radius_m=body.radius_m)
    if draft is None:
        raise InvalidInput(problems)
    area = bikewatch.save_area(session, draft, clock, by=principal, timezone=settings.timezone)
    return BikeAreaOut.of(area)


@router.put(
    "/bikes/areas",
    summary="Load parking areas: a GeoJSON FeatureCollection, or {areas: [...]} (checked all "
    "together; a bad one stores none)",
    response_model=BikeAreasLoadedOut,
    responses=_ERRORS,
)
def put_bike_areas(
    session: DbSession,
    clock: AppClock,
    settings: AppSettings,
    principal: Admin,
    body: Annotated[dict[str, Any], Body(description="The same document as a parking-area file")],
    replace: Annotated[bool, Query(description="Deactivate stored areas it leaves out")] = False,
) -> BikeAreasLoadedOut:
    drafts = parse_areas(body)
    loaded = bikewatch.load_areas(
        session,
        drafts,
        clock,
        by=principal,
        replace=replace,
        timezone=settings.timezone,
        key=list_key(body),
    )
    return BikeAreasLoadedOut.of(loaded)


@router.delete(
    "/bikes/areas/{code}",
    summary="Deactivate a parking area: its bikes count in their cells again, its alerts clear",
    response_model=BikeAreaOut,
    responses=_ERRORS,
)
def delete_bike_area(
    session: DbSession, clock: AppClock, principal: Admin, code: AreaCode
) -> BikeAreaOut:
    return BikeAreaOut.of(bikewatch.deactivate_area(session, code, clock, by=principal))
