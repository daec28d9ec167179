"""Build the demo city through each context's services, never by writing tables directly."""

from __future__ import annotations

import csv
import json
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from argon2 import PasswordHasher
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from onegrid.assets import queries as asset_queries
from onegrid.assets import services as asset_services
from onegrid.assets.importing import ComponentImportOptions, import_component_records
from onegrid.core.clock import Clock, SystemClock
from onegrid.db.session import Database
from onegrid.demo.addresses import demo_addresses
from onegrid.demo.catalogue import (
    BUREAUS,
    CITY_GOVERNMENT,
    SUBDISTRICT_OWNS,
    district_government_code,
    subdistrict_office_code,
)
from onegrid.demo.components import component_records
from onegrid.demo.geometry import CITY_CODE, SynthArea, synth_city
from onegrid.grid import queries as grid_queries
from onegrid.grid import services as grid_services
from onegrid.grid.domain import Level
from onegrid.grid.importing.addresses import read_address_file
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.people import services as people_services
from onegrid.people.credentials import create_api_key
from onegrid.people.domain import Grant, Role, Scope
from onegrid.sensing import services as sensing_services

VALID_FROM = date(2024, 1, 1)
# The demo's dated populations: the census its areas were imported with, from VALID_FROM, and a
# yearly estimate a little different from this date, so months on either side divide by each.
ESTIMATE_FROM = date(2026, 1, 1)
# Demo users share one random password; a light Argon2id keeps the build quick, and each hash
# is upgraded to the full parameters at the user's first sign-in.
_DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
COMPONENTS_PER_GRID = 8
_PLURAL = {"district": "districts", "subdistrict": "subdistricts", "community": "communities"}


@dataclass
class DemoReport:
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    users: list[tuple[str, str]] = field(default_factory=list)
    password: str = ""
    api_keys: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"demo city (seed {self.seed}):"]
        lines += [f"  {k}: {v:,}" for k, v in self.counts.items()]
        if self.users:
            lines.append("  sign-ins (shown once and stored only as hashes: note them now)")
            lines.append(f"    password of every demo user: {self.password}")
            lines += [f"    {role:<20} {user}" for role, user in self.users]
        for name, raw in self.api_keys:
            lines.append(f"    API key {name}: {raw}")
        return "\n".join(lines)


def is_empty(db: Database) -> bool:
    """No areas yet means no city: the demo may be built."""
    if not inspect(db.engine).has_table("areas"):
        return True
    with db.engine.connect() as conn:
        count: int = conn.execute(text("SELECT count(*) FROM areas")).scalar_one()
        return count == 0


def build_demo_city(
    db: Database,
    seed: int,
    clock: Clock | None = None,
    *,
    components_per_grid: int = COMPONENTS_PER_GRID,
) -> DemoReport:
    """The grid, departments, duty rules, users for every role, inspectors' grids, components."""
    clock = clock or SystemClock()
    report = DemoReport(seed=seed)
    areas = synth_city(seed)
    with db.unit_of_work() as session:
        asset_services.ensure_taxonomy(session, clock)
        _import_areas(session, areas, clock)
        report.counts["dated populations"] = _populations(session, areas, seed, clock)
        generated = grid_services.generate_unit_grids(session, clock, valid_from=VALID_FROM)
        report.counts["unit grids"] = generated.grids.accepted
        report.counts["standard addresses"] = _addresses(session, areas, clock)
        _departments(session, areas, clock)
        report.counts["duty rules"] = _duty_rules(session, areas, clock)
    for level in ("district", "subdistrict", "community"):
        report.counts[_PLURAL[level]] = sum(1 for a in areas if a.level == level)
    report.counts["departments"] = (
        len(BUREAUS) + 1 + sum(1 for a in areas if a.level in ("district", "subdistrict"))
    )
    with db.unit_of_work() as session:
        report.password = secrets.token_urlsafe(12)
        report.users = _users(session, areas, report.password, clock)
        report.api_keys = _api_keys(session, clock)
    report.counts["components"] = _components(db, seed, clock, components_per_grid)
    with db.unit_of_work() as session:
        sensors = sensing_services.register_demo_devices(session, clock, seed)
    report.counts["components"] += sensors.components
    report.counts["sensor devices"] = sensors.devices
    report.counts["bike parking areas"] = sensors.parking_areas
    return report


def _import_areas(session: Session, areas: list[SynthArea], clock: Clock) -> None:
    """Through the same GeoJSON import a city's own boundary files take."""
    with tempfile.TemporaryDirectory(prefix="onegrid-demo-") as tmp:
        for level in (Level.CITY, Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY):
            path = Path(tmp) / f"{level.value}.geojson"
            features = [
                {
                    "type": "Feature",
                    "properties": {
                        "code": a.code,
                        "name": a.name_zh,
                        "name_en": a.name_en,
                        "parent": a.parent_code,
                        "population": a.population,
                    },
                    "geometry": shapely.geometry.mapping(a.geometry),
                }
                for a in areas
                if a.level == level.value
            ]
            path.write_text(
                json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
            )
            options = AreaImportOptions(
                level=level,
                code_field="code",
                valid_from=VALID_FROM,
                name_field="name",
                name_en_field="name_en",
                population_field="population",
                parent_field=None if level == Level.CITY else "parent",
                crs="wgs84",
            )
            grid_services.import_areas(session, read_features(path), options, clock)


def _addresses(session: Session, areas: list[SynthArea], clock: Clock) -> int:
    """Through the same CSV import a city's standard address register takes, so Open311
    clients can post by ``address_id`` or ``address_string`` on the demo."""
    rows = demo_addresses(areas)
    with tempfile.TemporaryDirectory(prefix="onegrid-demo-") as tmp:
        path = Path(tmp) / "addresses.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(("id", "address", "lon", "lat"))
            writer.writerows((a.id, a.text, a.lon, a.lat) for a in rows)
        drafts, problems = read_address_file(path, "wgs84")
        loaded = grid_services.load_addresses(
            session, drafts, problems, clock, valid_from=VALID_FROM
        )
    return loaded.created


def _populations(session: Session, areas: list[SynthArea], seed: int, clock: Clock) -> int:
    """Through the same CSV load a city's statistics office figures take. The estimate moves
    each community by -2 % to +3 % and the tiers above by the sum of theirs."""
    rng = np.random.default_rng(seed + 1)
    estimate: dict[str, int] = {}
    for a in reversed(areas):  # finest first: a parent adds up its children
        if a.level == "community":
            own = round(a.population * (1 + rng.uniform(-0.02, 0.03)))
        else:
            own = estimate.get(a.code) or a.population
        estimate[a.code] = own
        if a.parent_code:
            estimate[a.parent_code] = estimate.get(a.parent_code, 0) + own
    lines = ["area_code,valid_from,population,source"]
    lines += [f"{a.code},{VALID_FROM},{a.population},demo census" for a in areas]
    lines += [f"{a.code},{ESTIMATE_FROM},{estimate[a.code]},demo estimate" for a in areas]
    loaded = grid_services.load_populations(session, lines, clock, source="demo")
    return loaded.added


def _departments(session: Session, areas: list[SynthArea], clock: Clock) -> None:
    people_services.create_department(
        session,
        CITY_GOVERNMENT.code,
        CITY_GOVERNMENT.name_zh,
        clock,
        name_en=CITY_GOVERNMENT.name_en,
        kind=CITY_GOVERNMENT.kind,
        area_code=CITY_CODE,
    )
    for dept in BUREAUS:
        people_services.create_department(
            session,
            dept.code,
            dept.name_zh,
            clock,
            name_en=dept.name_en,
            kind=dept.kind,
            parent_code=CITY_GOVERNMENT.code,
            phone="12345",
        )
    for a in areas:
        if a.level == "district":
            people_services.create_department(
                session,
                district_government_code(a.code),
                f"{a.name_zh}人民政府",
                clock,
                name_en=f"{a.name_en} Government",
                kind="district_government",
                area_code=a.code,
                parent_code=CITY_GOVERNMENT.code,
            )
        elif a.level == "subdistrict":
            people_services.create_department(
                session,
                subdistrict_office_code(a.code),
                f"{a.name_zh}办事处",
                clock,
                name_en=f"{a.name_en} Office",
                kind="subdistrict_office",
                area_code=a.code,
                parent_code=district_government_code(a.parent_code or ""),
            )


def _duty_rules(session: Session, areas: list[SynthArea], clock: Clock) -> int:
    count = 0

    def rule(area: str, prefix: str, dept: str, kind: str = "owner") -> None:
        nonlocal count
        grid_services.set_duty_rule(
            session,
            clock,
            area_code=area,
            category_prefix=prefix,
            department_code=dept,
            kind=kind,
            valid_from=VALID_FROM,
        )
        count += 1

    rule(CITY_CODE, "*", CITY_GOVERNMENT.code, "territorial")
    for dept in BUREAUS:
        for prefix in dept.owns:
            rule(CITY_CODE, prefix, dept.code)
    for a in areas:
        if a.level == "district":
            rule(a.code, "*", district_government_code(a.code), "territorial")
        elif a.level == "subdistrict":
            rule(a.code, "*", subdistrict_office_code(a.code), "territorial")
            for prefix in SUBDISTRICT_OWNS:
                rule(a.code, prefix, subdistrict_office_code(a.code))
    return count


def _users(
    session: Session, areas: list[SynthArea], password: str, clock: Clock
) -> list[tuple[str, str]]:
    """One sign-in per role, department handlers per bureau, an inspector per subdistrict."""
    first_district = next(a for a in areas if a.level == "district")
    people: list[tuple[str, str, list[Grant], list[str]]] = [
        ("admin", "城市管理员", [Grant(Role.CITY_ADMIN, Scope.city())], []),
        (
            "district.admin",
            f"{first_district.name_zh}管理员",
            [Grant(Role.DISTRICT_ADMIN, Scope.area(first_district.code))],
            [],
        ),
        ("registrar", "受理员", [Grant(Role.REGISTRAR, Scope.city())], []),
        ("shift.leader", "值班长", [Grant(Role.SHIFT_LEADER, Scope.city())], []),
        ("dispatcher", "派遣员", [Grant(Role.DISPATCHER, Scope.city())], []),
        ("operator", "12345话务员", [Grant(Role.HOTLINE_OPERATOR, Scope.city())], []),
        ("analyst", "数据分析员", [Grant(Role.ANALYST, Scope.city())], []),
        ("citizen", "市民张三", [Grant(Role.CITIZEN, Scope.city())], []),
    ]
    for dept in BUREAUS:
        people.append(
            (
                f"handler.{dept.code.lower()}",
                f"{dept.name_zh}承办人",
                [Grant(Role.DEPARTMENT_HANDLER, Scope.department(dept.code))],
                [dept.code],
            )
        )
    for a in areas:
        if a.level == "subdistrict":
            office = subdistrict_office_code(a.code)
            people.append(
                (
                    f"handler.{a.code}",
                    f"{a.name_zh}承办人",
                    [Grant(Role.DEPARTMENT_HANDLER, Scope.department(office))],
                    [office],
                )
            )
    inspectors = [a for a in areas if a.level == "subdistrict"]
    for i, a in enumerate(inspectors, start=1):
        people.append(
            (
                f"inspector{i:02d}",
                f"{a.name_zh}监督员",
                [Grant(Role.INSPECTOR, Scope.area(a.code))],
                [],
            )
        )
    by_role: dict[str, list[str]] = {}
    for username, display, grants, depts in people:
        user = people_services.create_user(
            session,
            username,
            password,
            clock,
            display_name=display,
            grants=grants,
            department_codes=depts,
            hasher=_DEMO_HASHER,
        )
        if username.startswith("inspector"):
            _assign_grids(session, user.id, inspectors[int(username[-2:]) - 1].code, clock)
        by_role.setdefault(str(grants[0].role), []).append(username)
    return [(role, _abbreviate(names)) for role, names in by_role.items()]


def _abbreviate(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 4 else f"{names[0]}, {names[1]} … {names[-1]}"


def _api_keys(session: Session, clock: Clock) -> list[tuple[str, str]]:
    keys = []
    for name, role in (
        ("open311-demo", Role.OPEN311_CLIENT),
        ("sensors-demo", Role.SENSOR_GATEWAY),
    ):
        _key, raw = create_api_key(session, name, role, Scope.city(), clock)
        keys.append((f"{name} ({role})", raw))
    return keys


def _assign_grids(session: Session, user_id: int, subdistrict: str, clock: Clock) -> None:
    codes = [
        grid.code
        for community in grid_queries.child_areas(session, subdistrict)
        for grid in grid_queries.list_unit_grids(session, community=community.code, limit=5000)
    ]
    grid_services.assign_inspector_to_grids(
        session, clock, user_id=user_id, unit_grid_codes=codes, valid_from=VALID_FROM
    )


def _components(db: Database, seed: int, clock: Clock, per_grid: int) -> int:
    with db.reader() as session:
        names = {c.code: c.name_zh for c in asset_queries.current_categories(session)}
        grids = []
        offset = 0
        while batch := grid_queries.list_unit_grids(
            session, limit=1000, offset=offset, with_geometry=True
        ):
            offset += len(batch)
            grids += [(g.code, g.geometry) for g in batch]
    records = component_records(grids, per_grid, seed, names)
    result = import_component_records(
        db, records, clock, ComponentImportOptions(data_source="demo")
    )
    return result.written
