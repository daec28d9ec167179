"""Use cases of the assets context: the only write path for taxonomies and components.

Each function works inside the caller's transaction (one use case, one unit of work) and raises
``onegrid.core.errors`` exceptions, never leaving half a change. ``by`` is the acting principal;
when given, the permission ``assets.admin`` is checked against the component's areas (a district
admin may edit the components of their district); ``None`` means a trusted caller (the CLI, the
demo builder). Bulk imports live in ``assets.importing``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onegrid.assets import queries
from onegrid.assets.checks import CheckContext, check_batch
from onegrid.assets.domain import (
    DATA_SOURCE_MAX,
    DEPARTMENT_CODE_MAX,
    NAME_MAX,
    Category,
    Component,
    ComponentChange,
    ComponentDraft,
    ComponentState,
    Kind,
    admin_code_problem,
    allocate_ids,
    check_transition,
    coordinate_problem,
    is_admin_code,
)
from onegrid.assets.models import (
    CategoryRow,
    ComponentHistoryRow,
    ComponentRow,
    TaxonomyVersionRow,
)
from onegrid.assets.sources import records_batch, text_of
from onegrid.assets.taxonomy import (
    DEFAULT_TAXONOMY,
    TaxonomyDocument,
    category_as_dict,
    read_taxonomy_file,
)
from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from onegrid.grid.queries import get_locator
from onegrid.people.domain import Principal
from onegrid.people.policy import require
from onegrid.people.queries import find_department

ADMIN = "assets.admin"
DEFAULT_TIMEZONE = "Asia/Shanghai"
CONSOLE = "console"
# What the history records of a component: every column a person can change or the system
# derives from a change (the location columns follow a move).
_TRACKED = (
    "name",
    "class_code",
    "competent_department",
    "owner",
    "maintainer",
    "unit_grid",
    "community",
    "subdistrict",
    "district",
    "lon",
    "lat",
    "state",
    "data_source",
    "note",
)


# --- taxonomy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedTaxonomy:
    version: queries.TaxonomyVersion
    created: bool


def load_taxonomy(
    session: Session,
    document: TaxonomyDocument,
    clock: Clock,
    *,
    source: str,
    by: Principal | None = None,
) -> LoadedTaxonomy:
    """Store a validated taxonomy as the newest active version. Loading the taxonomy already in
    use again changes nothing (``created`` is False)."""
    if by is not None:
        require(by, ADMIN)
    current = queries.current_version(session)
    if current is not None and current.checksum == document.checksum:
        return LoadedTaxonomy(current, created=False)
    row = TaxonomyVersionRow(
        name=document.name,
        label=document.label,
        note=document.note,
        source=source[:500],
        checksum=document.checksum,
        category_count=len(document.categories),
        active=True,
        loaded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    session.execute(
        insert(CategoryRow),
        [_category_values(row.id, c) for c in document.categories],
    )
    return LoadedTaxonomy(queries.get_taxonomy_version(session, row.id), created=True)


def _category_values(version_id: int, category: Category) -> dict[str, object]:
    values = category_as_dict(category)
    values["version_id"] = version_id
    values["active"] = category.active  # every row names it: one shape for the bulk insert
    return values


def load_taxonomy_file(
    session: Session, path: Path, clock: Clock, *, by: Principal | None = None
) -> LoadedTaxonomy:
    """``onegrid taxonomy load FILE``: validate a YAML/JSON file and store it as a new version."""
    return load_taxonomy(session, read_taxonomy_file(path), clock, source=str(path), by=by)


def ensure_taxonomy(session: Session, clock: Clock) -> queries.TaxonomyVersion:
    """The taxonomy in use, loading the shipped example taxonomy first if there is none."""
    current = queries.current_version(session)
    if current is not None:
        return current
    return load_taxonomy_file(session, DEFAULT_TAXONOMY, clock).version


def set_taxonomy_active(
    session: Session, version_id: int, active: bool, *, by: Principal | None = None
) -> queries.TaxonomyVersion:
    """Switch a version on or off; the newest active one is in use, so switching the newest off
    goes back to the one before. The last active version cannot be switched off."""
    if by is not None:
        require(by, ADMIN)
    row = session.get(TaxonomyVersionRow, version_id, with_for_update=True)
    if row is None:
        raise InvalidInput.one("version", "exists", f"no taxonomy version {version_id}")
    if not active and row.active:
        others = session.scalar(
            select(func.count())
            .select_from(TaxonomyVersionRow)
            .where(TaxonomyVersionRow.active.is_(True), TaxonomyVersionRow.id != version_id)
        )
        if not others:
            raise Conflict(
                f"taxonomy version {version_id} is the only active one; load or activate "
                "another first"
            )
    row.active = active
    session.flush()
    return queries.get_taxonomy_version(session, version_id)


# --- components -------------------------------------------------------------------------------


def _area_chain(row: ComponentRow) -> tuple[str, ...]:
    codes = (row.district, row.subdistrict, row.community, row.unit_grid)
    return tuple(c for c in codes if c)


def _check_departments(session: Session, values: dict[str, str | None]) -> list[FieldProblem]:
    return [
        FieldProblem(name, "known_department", f"no department with code {code!r}")
        for name, code in values.items()
        if code and find_department(session, code) is None
    ]


@dataclass(frozen=True)
class _Place:
    lon: float
    lat: float
    unit_grid: str | None
    community: str | None
    subdistrict: str | None
    district: str | None
    h3_10: int


def _locate(session: Session, lon: float, lat: float, today: date) -> _Place:
    """The component's place in the areas of ``today``, not in a change scheduled for later."""
    located = get_locator(session, today).locate_many(np.array([lon]), np.array([lat]), cells=(10,))
    if not bool(located.inside[0]):
        raise InvalidInput.one(
            "lon", "inside_city", f"point ({lon}, {lat}) lies outside the city's areas"
        )

    def code(values: np.ndarray) -> str | None:
        return str(values[0]) or None

    return _Place(
        lon,
        lat,
        code(located.unit_grid),
        code(located.community),
        code(located.subdistrict),
        code(located.district),
        int(np.int64(located.h3_10[0])),
    )


def _checked_draft(
    session: Session, draft: ComponentDraft, clock: Clock, timezone: str
) -> ComponentDraft:
    """The draft after the same row rules a bulk import applies (defaults filled in)."""
    classes = {c.code: c for c in queries.current_categories(session, Kind.COMPONENT)}
    if not classes:
        raise InvalidInput.one("taxonomy", "loaded", "no taxonomy is loaded")
    today = city_today(clock, timezone)
    record = {name: text_of(value) for name, value in vars(draft).items()}
    checked = check_batch(records_batch([(1, record)]), CheckContext(classes, today, "api"))
    problems = [FieldProblem(p.field, p.rule, p.message) for p in checked.problems]
    problems += _check_departments(
        session,
        {
            "owner": draft.owner,
            "maintainer": draft.maintainer,
            "competent_department": draft.competent_department,
        },
    )
    if problems:
        raise InvalidInput(problems)
    return replace(
        draft,
        id=checked.ids[0] or None,
        owner=checked.owners[0],
        maintainer=checked.maintainers[0],
        competent_department=checked.competent_departments[0],
        class_code=checked.class_codes[0],
        name=checked.names[0],
        state=ComponentState(checked.states[0]),
        first_recorded=checked.first_recorded[0],
        data_source=draft.data_source or None,
    )


def _component_id(session: Session, draft: ComponentDraft, place: _Place) -> str:
    if draft.id:
        problem = admin_code_problem(draft.id[:6], place.district)
        if problem:
            raise InvalidInput.one("id", "id_matches_district", problem)
        if session.get(ComponentRow, draft.id) is not None:
            raise Conflict(f"component {draft.id} already exists")
        return draft.id
    admin = place.district if is_admin_code(place.district) else draft.admin_code
    if not admin:
        raise InvalidInput.one(
            "admin_code",
            "admin_code_known",
            f"no ID, and district {place.district!r} is not a 6-digit admin code to number it "
            "under: give an ID or an admin_code",
        )
    prefix = admin + draft.class_code[1:]
    top = session.scalar(
        select(func.max(ComponentRow.id)).where(
            ComponentRow.id.between(prefix + "000000", prefix + "999999")
        )
    )
    return allocate_ids(prefix, int(top[10:]) if top else 0, 1)[0]


def create_component(
    session: Session,
    draft: ComponentDraft,
    clock: Clock,
    *,
    by: Principal | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Component:
    """Record one component: checked like an imported row, located, and numbered with the next
    free sequence when it has no ID."""
    draft = _checked_draft(session, draft, clock, timezone)
    place = _locate(session, draft.lon, draft.lat, city_today(clock, timezone))
    if by is not None:
        chain = tuple(
            c for c in (place.district, place.subdistrict, place.community, place.unit_grid) if c
        )
        require(by, ADMIN, area_chain=chain)
    component_id = _component_id(session, draft, place)
    assert draft.first_recorded is not None
    row = ComponentRow(
        id=component_id,
        name=draft.name,
        class_code=draft.class_code,
        admin_code=component_id[:6],
        competent_department=draft.competent_department or None,
        owner=draft.owner,
        maintainer=draft.maintainer or None,
        unit_grid=place.unit_grid,
        community=place.community,
        subdistrict=place.subdistrict,
        district=place.district,
        lon=place.lon,
        lat=place.lat,
        h3_10=place.h3_10,
        state=draft.state.value,
        first_recorded=draft.first_recorded,
        last_changed=clock.now(),
        data_source=draft.data_source,
        note=draft.note or None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"component {component_id} was recorded at the same time; retry") from None
    created = {name: [None, v] for name in _TRACKED if (v := getattr(row, name)) is not None}
    _record(session, row, "created", created, clock, by)
    return queries.component_of(row)


def _snapshot(row: ComponentRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in _TRACKED}


def _record(
    session: Session,
    row: ComponentRow,
    action: str,
    changes: dict[str, list[object]],
    clock: Clock,
    by: Principal | None,
) -> None:
    """Append one history row (``component_history`` refuses UPDATE and DELETE)."""
    session.add(
        ComponentHistoryRow(
            component_id=row.id,
            at=clock.now(),
            actor=by.actor if by is not None else CONSOLE,
            action=action,
            changes=changes,
        )
    )
    session.flush()


def _record_changes(
    session: Session,
    row: ComponentRow,
    before: dict[str, object],
    action: str,
    clock: Clock,
    by: Principal | None,
) -> None:
    changes = {
        name: [old, new] for name, old in before.items() if (new := getattr(row, name)) != old
    }
    if changes:  # a change that changes nothing leaves no trace
        _record(session, row, action, changes, clock, by)


def _locked(session: Session, component_id: str, by: Principal | None) -> ComponentRow:
    row = session.get(ComponentRow, component_id.strip(), with_for_update=True)
    if row is None:
        raise NotFound(f"no component with ID {component_id!r}")
    if by is not None:
        require(by, ADMIN, area_chain=_area_chain(row))
    return row


def _change_problems(change: ComponentChange) -> list[FieldProblem]:
    problems = change.problems()
    limits = {
        "name": NAME_MAX,
        "owner": DEPARTMENT_CODE_MAX,
        "maintainer": DEPARTMENT_CODE_MAX,
        "competent_department": DEPARTMENT_CODE_MAX,
        "data_source": DATA_SOURCE_MAX,
    }
    for name, limit in limits.items():
        value = change.values.get(name)
        if isinstance(value, str) and len(value) > limit:
            problems.append(FieldProblem(name, "max_length", f"{name} is longer than {limit}"))
    if "lon" in change.values and "lat" in change.values:
        lon, lat = change.values["lon"], change.values["lat"]
        numbers = [
            FieldProblem(name, "number", f"{name} must be a number")
            for name, value in (("lon", lon), ("lat", lat))
            if isinstance(value, bool) or not isinstance(value, int | float)
        ]
        problem = None if numbers else coordinate_problem(float(lon), float(lat))  # type: ignore[arg-type]
        problems += numbers if numbers else [problem] if problem else []
    return problems


def update_component(
    session: Session,
    component_id: str,
    change: ComponentChange,
    clock: Clock,
    *,
    by: Principal | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Component:
    """Change names, departments, position or notes. A move is located again (in the areas of
    the city's today); it may not leave the district the ID was numbered in (retire and record
    a new one instead)."""
    problems = _change_problems(change)
    departments = {
        k: str(v) if v else None
        for k, v in change.values.items()
        if k in ("owner", "maintainer", "competent_department")
    }
    problems += _check_departments(session, departments)
    if problems:
        raise InvalidInput(problems)
    row = _locked(session, component_id, by)
    if row.state == ComponentState.REMOVED.value:
        raise Conflict(f"component {row.id} is removed (retired) and cannot change")
    before = _snapshot(row)
    values = dict(change.values)
    if "lon" in values:
        lon, lat = float(values.pop("lon")), float(values.pop("lat"))  # type: ignore[arg-type]
        _move(session, row, lon, lat, city_today(clock, timezone), by)
    for name, value in values.items():
        text = str(value).strip() if value is not None else ""
        setattr(row, name, text or None if name not in ("name", "owner") else text)
    row.last_changed = clock.now()
    session.flush()
    _record_changes(session, row, before, "updated", clock, by)
    return queries.component_of(row)


def _move(
    session: Session, row: ComponentRow, lon: float, lat: float, today: date, by: Principal | None
) -> None:
    place = _locate(session, lon, lat, today)
    problem = admin_code_problem(row.admin_code, place.district)
    if problem:
        raise InvalidInput.one(
            "lon", "id_matches_district", f"{problem}; retire it and record a new component"
        )
    if by is not None:
        chain = tuple(
            c for c in (place.district, place.subdistrict, place.community, place.unit_grid) if c
        )
        require(by, ADMIN, area_chain=chain)
    row.lon, row.lat, row.h3_10 = place.lon, place.lat, place.h3_10
    row.unit_grid, row.community = place.unit_grid, place.community
    row.subdistrict, row.district = place.subdistrict, place.district


def change_component_state(
    session: Session,
    component_id: str,
    state: ComponentState,
    clock: Clock,
    *,
    by: Principal | None = None,
) -> Component:
    """Move a component to another state along the table in ``domain.TRANSITIONS``."""
    row = _locked(session, component_id, by)
    check_transition(row.id, ComponentState(row.state), state)
    before = _snapshot(row)
    row.state = state.value
    row.last_changed = clock.now()
    session.flush()
    action = "retired" if state is ComponentState.REMOVED else "state_changed"
    _record_changes(session, row, before, action, clock, by)
    return queries.component_of(row)


def retire_component(
    session: Session, component_id: str, clock: Clock, *, by: Principal | None = None
) -> Component:
    """Mark a component removed. The record stays (cases refer to it); its ID is never reused."""
    return change_component_state(session, component_id, ComponentState.REMOVED, clock, by=by)
