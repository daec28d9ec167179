"""The admin's writes to the city grid: area and unit-grid imports (with a dry-run plan) and
area names. Inspectors' grids and duty rules are in ``grid_duty``.

An import is checked whole before anything is written: every problem in the file comes back in
one 422 naming the feature and the property, and nothing is written. ``dry_run=true`` answers
the plan (new, changed, unchanged, retired, by code, with the shapes for a map) and writes
nothing; without it the same plan is written in the request's one transaction, and the grid
change token it records makes every cached locator rebuild before it answers again.

Each write needs ``grid.admin`` over every area it touches: a district admin only inside their
district, a city admin anywhere. ``people.policy`` defines that action for exactly this (load and
edit areas, unit grids, duty rules); ``config.admin`` is the rule files', and both are held by
city and district admins only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from starlette.datastructures import UploadFile

from onegrid.api.auth import requires
from onegrid.api.deps import AppClock, AppSettings, DbSession
from onegrid.core.clock import city_today
from onegrid.core.errors import FieldProblem, InvalidInput, PermissionDenied
from onegrid.grid import coverage, queries, services
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.checks import Change, OnError
from onegrid.grid.importing.reading import SourceFile, read_geojson_bytes
from onegrid.grid.importing.unit_grids import UnitGridImportOptions
from onegrid.grid.schemas import (
    AreaNamesIn,
    AreaOut,
    FeatureCollectionOut,
    ImportPlanOut,
    PlanItemOut,
    ProblemOut,
)
from onegrid.people.domain import Principal
from onegrid.people.policy import can, explain

router = APIRouter(tags=["grid admin"])
GridAdmin = Annotated[Principal, requires("grid.admin")]

MAX_UPLOAD_BYTES = 32 * 1024 * 1024
# Plan shapes are for a map on a screen: a metre of detail is plenty, and keeps the answer small.
_MAP_TOLERANCE_DEG = 0.00001
_CHANGED = (Change.VERSION, Change.CORRECT, Change.UPDATE)

Crs = Annotated[
    str | None,
    Query(description="wgs84, gcj02, bd09 or EPSG:<code>; default: what the file says, else wgs84"),
]
ValidFrom = Annotated[
    date | None, Query(description="First day the data is valid; default: the city's today.")
]
OnErrorQ = Annotated[
    OnError, Query(description="refuse: write nothing if any feature is bad; skip: the good ones")
]
Repair = Annotated[bool, Query(description="Make invalid polygons valid and list the repairs.")]
DryRun = Annotated[bool, Query(description="Answer the plan without writing anything.")]
Field_ = Annotated[str | None, Query(max_length=100)]


def today(clock: AppClock, settings: AppSettings) -> date:
    return city_today(clock, settings.timezone)


def _too_large() -> HTTPException:
    return HTTPException(
        413, f"file: the GeoJSON is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB"
    )


async def _body_within_limit(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit (a chunked upload has no length)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _too_large()
        parts.append(chunk)
    return b"".join(parts)


@dataclass(frozen=True)
class Uploaded:
    name: str
    raw: bytes

    def read(self) -> SourceFile:
        """Parsed in the (sync) handler's worker thread, not on the event loop."""
        return read_geojson_bytes(self.name, self.raw)


async def uploaded_geojson(request: Request) -> Uploaded:
    """The GeoJSON bytes of the request: the multipart field ``file``, or the body itself
    (``application/json`` or ``application/geo+json``)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise _too_large()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput.one(
                "file", "required", "send the GeoJSON file as the multipart field 'file'"
            )
        raw = await upload.read(MAX_UPLOAD_BYTES + 1)
        name = upload.filename or "upload.geojson"
    else:
        raw = await _body_within_limit(request)
        name = "request body"
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _too_large()
    if not raw.strip():
        raise InvalidInput.one("file", "required", "the request holds no GeoJSON")
    return Uploaded(name, raw)


Upload = Annotated[Uploaded, Depends(uploaded_geojson)]


def require_over(principal: Principal, chains: Mapping[str, Sequence[str]]) -> None:
    """``grid.admin`` over every area chain given, or one 403 naming what lies outside."""
    outside = sorted(
        code for code, chain in chains.items() if not can(principal, "grid.admin", area_chain=chain)
    )
    if outside:
        first = explain(principal, "grid.admin", area_chain=chains[outside[0]])
        more = f" ({len(outside)} codes outside your reach: {', '.join(outside[:20])})"
        raise PermissionDenied(first + (more if len(outside) > 1 else ""))


def _problems(items: Sequence[FieldProblem]) -> list[ProblemOut]:
    return [ProblemOut(**p.as_dict()) for p in items]


def _feature(code: str, change: str, geometry: Any) -> dict[str, Any]:
    shape = shapely.simplify(geometry, _MAP_TOLERANCE_DEG, preserve_topology=True)
    return {
        "type": "Feature",
        "id": code,
        "properties": {"code": code, "change": change},
        "geometry": shapely.geometry.mapping(shape),
    }


def _plan_out(
    items: list[PlanItemOut],
    shapes: list[dict[str, Any]],
    *,
    source: str,
    valid_from: date,
    problems: Sequence[FieldProblem],
    repairs: Sequence[FieldProblem],
    summary: services.ImportSummary | None,
    advice: str | None = None,
) -> ImportPlanOut:
    def codes(*changes: str) -> list[str]:
        return [i.code for i in items if i.change in changes]

    return ImportPlanOut(
        dry_run=summary is None,
        applied=summary is not None,
        source=source,
        valid_from=valid_from,
        new=codes(Change.CREATE),
        changed=codes(*_CHANGED),
        unchanged=codes(Change.UNCHANGED),
        retired=codes("retire"),
        items=items,
        rejected=_problems(problems),
        repaired=_problems(repairs),
        summary=summary.render() if summary else None,
        advice=advice,
        map=FeatureCollectionOut.model_validate({"features": shapes}),
    )


class ImportQuery:
    """The query parameters every boundary import takes, after the importer's own."""

    def __init__(
        self,
        clock: AppClock,
        settings: AppSettings,
        crs: Crs = None,
        valid_from: ValidFrom = None,
        on_error: OnErrorQ = OnError.REFUSE,
        repair: Repair = False,
        dry_run: DryRun = False,
    ) -> None:
        self.crs = crs or None
        self.valid_from = valid_from or today(clock, settings)
        self.on_error = on_error
        self.repair = repair
        self.dry_run = dry_run

    def refuse_if_bad(self, problems: Sequence[FieldProblem]) -> None:
        if problems and self.on_error is OnError.REFUSE:
            raise InvalidInput(list(problems))


Import = Annotated[ImportQuery, Depends()]


@router.post(
    "/areas/import",
    summary="Import areas of one level from GeoJSON (dry_run=true: the plan only)",
    response_model=ImportPlanOut,
    description="Body: the multipart field `file`, or the GeoJSON itself as the body. A code "
    "already stored gets a new version from valid_from when its shape or parent changed, and "
    "is corrected in place when only names or population did.",
)
def import_areas(
    principal: GridAdmin,
    db: DbSession,
    clock: AppClock,
    upload: Upload,
    run: Import,
    level: Annotated[Level, Query(description="city, district, subdistrict or community")],
    code_field: Annotated[str, Query(min_length=1, max_length=100)] = "code",
    name_field: Field_ = None,
    name_en_field: Field_ = None,
    parent_code: Annotated[str | None, Query(max_length=32)] = None,
    parent_field: Field_ = None,
    parent_from_code_prefix: Annotated[int | None, Query(ge=1, le=31)] = None,
    population_field: Field_ = None,
) -> ImportPlanOut:
    options = AreaImportOptions(
        level=level,
        code_field=code_field,
        valid_from=run.valid_from,
        name_field=name_field or None,
        name_en_field=name_en_field or None,
        parent_code=parent_code or None,
        parent_field=parent_field or None,
        parent_from_code_prefix=parent_from_code_prefix,
        population_field=population_field or None,
        crs=run.crs,
        on_error=run.on_error,
        repair=run.repair,
    )
    source = upload.read()
    plan = services.plan_area_import(db, source, options)
    require_over(
        principal,
        coverage.chains_below(db, {p.draft.code: p.draft.parent_code for p in plan.planned}),
    )
    run.refuse_if_bad(plan.problems)
    summary = None if run.dry_run else services.apply_area_import(db, plan, clock)
    advice = None
    if summary and (summary.versioned or summary.corrected):
        advice = "areas changed shape: run `onegrid grid generate` to refit their generated grids"
    items = [
        PlanItemOut(
            code=p.draft.code,
            change=str(p.change),
            record=p.draft.record,
            feature_index=p.draft.number,
            parent_code=p.draft.parent_code,
            name_zh=p.draft.name_zh,
            name_en=p.draft.name_en,
        )
        for p in plan.planned
    ]
    shapes = [_feature(p.draft.code, str(p.change), p.draft.geometry) for p in plan.planned]
    return _plan_out(
        items,
        shapes,
        source=source.path,
        valid_from=options.valid_from,
        problems=plan.problems,
        repairs=plan.repairs,
        summary=summary,
        advice=advice,
    )


@router.post(
    "/unit-grids/import",
    summary="Import official unit grids from GeoJSON (dry_run=true: the plan only)",
    response_model=ImportPlanOut,
    description="The file is the full list of grids of every community it names: their stored "
    "grids it leaves out (and grids generated from H3) are retired from valid_from.",
)
def import_unit_grids(
    principal: GridAdmin,
    db: DbSession,
    clock: AppClock,
    upload: Upload,
    run: Import,
    code_field: Annotated[str, Query(min_length=1, max_length=100)] = "code",
    community_field: Annotated[str, Query(min_length=1, max_length=100)] = "community",
    land_use_field: Field_ = None,
    management_level_field: Field_ = None,
) -> ImportPlanOut:
    options = UnitGridImportOptions(
        code_field=code_field,
        community_field=community_field,
        valid_from=run.valid_from,
        land_use_field=land_use_field or None,
        management_level_field=management_level_field or None,
        crs=run.crs,
        on_error=run.on_error,
        repair=run.repair,
    )
    source = upload.read()
    plan = services.plan_unit_grid_import(db, source, options)
    placed = {p.draft.code: p.draft.community_code for p in plan.planned}
    placed.update({r.code: r.community_code for r in plan.retired})
    require_over(principal, coverage.chains_below(db, dict(placed)))
    run.refuse_if_bad(plan.problems)
    summary = None if run.dry_run else services.apply_unit_grid_import(db, plan, clock)
    items = [
        PlanItemOut(
            code=p.draft.code,
            change=str(p.change),
            record=p.draft.record,
            feature_index=p.draft.number,
            parent_code=p.draft.community_code,
        )
        for p in plan.planned
    ]
    items += [
        PlanItemOut(code=r.code, change="retire", parent_code=r.community_code)
        for r in plan.retired
    ]
    shapes = [_feature(p.draft.code, str(p.change), p.draft.geometry) for p in plan.planned]
    old = coverage.grid_shapes(db, [r.id for r in plan.retired])
    shapes += [_feature(r.code, "retire", old[r.id]) for r in plan.retired if r.id in old]
    return _plan_out(
        items,
        shapes,
        source=source.path,
        valid_from=options.valid_from,
        problems=plan.problems,
        repairs=plan.repairs,
        summary=summary,
    )


@router.patch(
    "/areas/{code}",
    summary="Correct an area's names (in place on its current version)",
    response_model=AreaOut,
    description="Names are corrected in place, not versioned: the grid opens a new version "
    "only when what locates a place changes (shape or parent); a renamed area keeps its code, "
    "cases and history. Fields left out are kept.",
)
def rename_area(
    principal: GridAdmin,
    db: DbSession,
    clock: AppClock,
    code: Annotated[str, Path(max_length=32)],
    body: AreaNamesIn,
) -> AreaOut:
    require_over(principal, coverage.area_chains(db, [code]))
    given = body.model_dump(include={"name_zh", "name_en"} & body.model_fields_set)
    names: dict[str, str | None] = dict(given)
    services.rename_area(db, clock, code=code, names=names)
    return AreaOut.of(queries.get_area(db, code))
