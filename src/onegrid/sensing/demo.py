"""Devices for the demo city, built through the services from what the city already has.

* an air-quality station per subdistrict, on a new C0603 component at the subdistrict's
  representative point (owner: whoever the duty rules name for C0603 there);
* tilt sensors on one manhole cover (C0101–C0113) in ten, at most 300;
* controllers on one street lamp (C0115) in ten, at most 200;
* three water-level gauges per district, each on a new C0602 component;
* video-AI sources on the public-security cameras (C0126), at most 30;
* a parking area of 25 m around each bike parking area (C0213), capacity 20–60, and the bike
  operators, when departments of kind ``operator`` exist.

The same seed gives the same devices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from sqlalchemy.orm import Session

from onegrid.assets import services as assets
from onegrid.assets.domain import Component, ComponentDraft
from onegrid.assets.queries import ComponentFilter, list_components
from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import DomainError
from onegrid.core.settings import get_settings
from onegrid.grid.queries import get_area, list_areas, locate, responsible_department
from onegrid.people.queries import list_departments
from onegrid.sensing import bikewatch, services
from onegrid.sensing.domain.devices import DeviceDraft

COVER_CLASSES = tuple(f"C01{n:02d}" for n in range(1, 14))
OPERATOR_QUOTAS = (6000, 5000, 4000)


@dataclass
class DemoSensors:
    devices: int = 0
    components: int = 0  # made to mount stations and gauges on
    parking_areas: int = 0
    operators: int = 0


def _components(session: Session, class_code: str) -> Iterator[Component]:
    cursor = None
    while True:
        page = list_components(
            session, ComponentFilter(class_code=class_code), cursor=cursor, limit=500
        )
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _owner(session: Session, class_code: str, lon: float, lat: float, on: date) -> str | None:
    where = locate(session, lon, lat, on)
    duty = responsible_department(session, class_code, where, on=on) if where else None
    return duty.department_code if duty else None


def _new_component(
    session: Session, clock: Clock, class_code: str, name: str, lon: float, lat: float
) -> Component | None:
    # The demo has no settings of its own passed in: the configured city's zone gives its today.
    owner = _owner(session, class_code, lon, lat, city_today(clock, get_settings().timezone))
    if owner is None:
        return None
    draft = ComponentDraft(class_code, name, lon, lat, owner=owner, data_source="demo")
    return assets.create_component(session, draft, clock)


def _register(session: Session, clock: Clock, draft: DeviceDraft) -> int:
    try:
        services.register_device(session, draft, clock)
    except DomainError:
        return 0
    return 1


def _stations(session: Session, clock: Clock, out: DemoSensors) -> int:
    count = 0
    for area in list_areas(session, level="subdistrict", limit=100_000):
        point = get_area(session, area.code).geometry.representative_point()
        lon, lat = round(float(point.x), 6), round(float(point.y), 6)
        name = f"{area.name_zh or area.code}空气质量监测站"
        component = _new_component(session, clock, "C0603", name, lon, lat)
        out.components += component is not None
        draft = DeviceDraft(
            f"AQ-{area.code}",
            "air_quality",
            lon,
            lat,
            name,
            component_id=component.id if component else None,
        )
        count += _register(session, clock, draft)
    return count


def _on_components(
    session: Session,
    clock: Clock,
    rng: np.random.Generator,
    classes: tuple[str, ...],
    kind: str,
    prefix: str,
    share: float,
    most: int,
) -> int:
    picked = [c for cls in classes for c in _components(session, cls) if rng.random() < share]
    count = 0
    for c in picked[:most]:
        draft = DeviceDraft(
            f"{prefix}-{c.id}", kind, c.lon, c.lat, f"{c.name} {kind}", component_id=c.id
        )
        count += _register(session, clock, draft)
    return count


def _gauges(session: Session, clock: Clock, rng: np.random.Generator, out: DemoSensors) -> int:
    count = 0
    for area in list_areas(session, level="district", limit=100_000):
        shape = get_area(session, area.code).geometry
        minx, miny, maxx, maxy = shape.bounds
        made = 0
        for _ in range(200):
            if made == 3:
                break
            lon, lat = float(rng.uniform(minx, maxx)), float(rng.uniform(miny, maxy))
            if not shape.contains(shapely.Point(lon, lat)):
                continue
            made += 1
            name = f"{area.name_zh or area.code}积水监测点{made}"
            component = _new_component(session, clock, "C0602", name, round(lon, 6), round(lat, 6))
            out.components += component is not None
            draft = DeviceDraft(
                f"WL-{area.code}-{made}",
                "water_level",
                round(lon, 6),
                round(lat, 6),
                name,
                component_id=component.id if component else None,
            )
            count += _register(session, clock, draft)
    return count


def _bikes(session: Session, clock: Clock, rng: np.random.Generator, out: DemoSensors) -> None:
    operators = [d for d in list_departments(session, active_only=True) if d.kind == "operator"]
    for dept, quota in zip(operators, OPERATOR_QUOTAS, strict=False):
        bikewatch.set_operator(
            session, dept.code, dept.name_zh, dept.code, clock, fleet_quota=quota
        )
        out.operators += 1
    for c in _components(session, "C0213"):
        bikewatch.set_area(
            session,
            f"P-{c.id}",
            c.name,
            bikewatch.buffer(c.lon, c.lat, 25.0),
            int(rng.integers(20, 61)),
            clock,
        )
        out.parking_areas += 1


def register_demo_devices(session: Session, clock: Clock, seed: int) -> DemoSensors:
    """Register the demo city's devices and bike configuration; says what was made."""
    rng = np.random.default_rng(seed + 61)
    out = DemoSensors()
    services.ensure_default_rules(session, clock)
    count = _stations(session, clock, out)
    count += _on_components(session, clock, rng, COVER_CLASSES, "manhole_cover", "MC", 0.1, 300)
    count += _on_components(session, clock, rng, ("C0115",), "street_lamp", "SL", 0.1, 200)
    count += _gauges(session, clock, rng, out)
    count += _on_components(session, clock, rng, ("C0126",), "video_ai", "CAM", 0.5, 30)
    _bikes(session, clock, rng, out)
    out.devices = count
    return out
