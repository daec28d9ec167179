"""Sensing use cases: register and retire devices, load rules. The only write path for devices
and rules; readings and alerts are written by the ingest (``store``), cases by ``alerting``.

Each function works in the caller's session and transaction (the API's request, the CLI's unit of
work), like the other contexts' services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onegrid.assets.queries import find_component
from onegrid.core.clock import Clock, city_today
from onegrid.core.errors import FieldProblem, InvalidInput, NotFound
from onegrid.core.settings import get_settings
from onegrid.grid.queries import locate
from onegrid.people.domain import Principal
from onegrid.people.policy import require
from onegrid.people.queries import find_department
from onegrid.sensing import queries
from onegrid.sensing.config import default_rule_specs, device_kinds
from onegrid.sensing.domain.devices import DeviceDraft, DeviceKind, check_device
from onegrid.sensing.domain.rules import parse_rules, rule_to_spec
from onegrid.sensing.models import DeviceRow, RuleRow
from onegrid.sensing.queries import DeviceView
from onegrid.sensing.settings import SensingSettings

if TYPE_CHECKING:
    from onegrid.sensing.demo import DemoSensors

ADMIN = "sensing.admin"

__all__ = [
    "ADMIN",
    "ensure_default_rules",
    "load_rules",
    "register_demo_devices",
    "register_device",
    "retire_device",
    "set_rule_enabled",
]


def _check_references(session: Session, draft: DeviceDraft) -> None:
    problems: list[FieldProblem] = []
    if draft.component_id and find_component(session, draft.component_id) is None:
        problems.append(
            FieldProblem(
                "component_id", "known_component", f"no component {draft.component_id} on record"
            )
        )
    if draft.owner and find_department(session, draft.owner) is None:
        problems.append(
            FieldProblem("owner", "known_department", f"no department with code {draft.owner!r}")
        )
    if problems:
        raise InvalidInput(problems)


def register_device(
    session: Session,
    draft: DeviceDraft,
    clock: Clock,
    *,
    by: Principal | None = None,
    kinds: Mapping[str, DeviceKind] | None = None,
    timezone: str | None = None,
) -> DeviceView:
    """Add a device, or change the one with this id: checked, located in the grid of the city's
    today (``timezone``: the city's; default the configured one)."""
    draft = check_device(draft, kinds if kinds is not None else device_kinds())
    _check_references(session, draft)
    today = city_today(clock, timezone or get_settings().timezone)
    where = locate(session, draft.lon, draft.lat, today)
    if where is None:
        raise InvalidInput.one(
            "lon", "inside_city", f"the point ({draft.lon}, {draft.lat}) lies outside the city"
        )
    if by is not None:
        require(by, ADMIN, area_chain=where.area_chain)
    now = clock.now()
    row = session.get(DeviceRow, draft.id, with_for_update=True)
    if row is None:
        row = DeviceRow(id=draft.id, created_at=now, active=True)
        session.add(row)
    row.kind = draft.kind
    row.name = draft.name
    row.lon, row.lat = draft.lon, draft.lat
    row.h3_10 = where.h3_10
    row.city_code = where.city
    row.district_code = where.district
    row.subdistrict_code = where.subdistrict
    row.community_code = where.community
    row.unit_grid_code = where.unit_grid
    row.component_id = draft.component_id
    row.owner_department = draft.owner
    row.quantities = dict(draft.quantities or {})
    row.interval_s = int(draft.interval_s or 0)
    row.active = True
    row.note = draft.note
    row.updated_at = now
    session.flush()
    return queries.get_device(session, draft.id)


def retire_device(
    session: Session, device_id: str, clock: Clock, *, by: Principal | None = None
) -> DeviceView:
    """A retired device's readings are refused (reason ``inactive_device``); its history stays."""
    row = session.get(DeviceRow, device_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no device {device_id!r}")
    if by is not None:
        require(by, ADMIN, area_chain=queries.get_device(session, device_id).area_chain)
    row.active = False
    row.updated_at = clock.now()
    session.flush()
    return queries.get_device(session, device_id)


def load_rules(
    session: Session,
    specs: Iterable[Any],
    clock: Clock,
    *,
    by: Principal | None = None,
    replace: bool = False,
) -> list[str]:
    """Store rules (all checked first: a bad one stores none). ``replace`` disables every stored
    rule the document does not name. Returns the codes of the rules that changed."""
    if by is not None:
        require(by, ADMIN)
    rules = parse_rules(list(specs))
    now = clock.now()
    changed = []
    stored = {r.code: r for r in session.scalars(select(RuleRow).with_for_update())}
    for rule in rules:
        spec = rule_to_spec(rule)
        spec.pop("enabled", None)
        row = stored.get(rule.code)
        if row is None:
            session.add(
                RuleRow(
                    code=rule.code,
                    kind=rule.kind.value,
                    spec=spec,
                    enabled=rule.enabled,
                    version=1,
                    updated_at=now,
                )
            )
            changed.append(rule.code)
        elif row.spec != spec or row.enabled != rule.enabled:
            row.kind, row.spec, row.enabled = rule.kind.value, spec, rule.enabled
            row.version += 1
            row.updated_at = now
            changed.append(rule.code)
    if replace:
        named = {r.code for r in rules}
        for code, row in stored.items():
            if code not in named and row.enabled:
                row.enabled = False
                row.version += 1
                row.updated_at = now
                changed.append(code)
    session.flush()
    # Area rules must still find the rules they combine among the enabled ones.
    queries.load_rules(session)
    return changed


def set_rule_enabled(
    session: Session, code: str, enabled: bool, clock: Clock, *, by: Principal | None = None
) -> None:
    if by is not None:
        require(by, ADMIN)
    row = session.get(RuleRow, code, with_for_update=True)
    if row is None:
        raise NotFound(f"no rule {code!r}")
    if row.enabled != enabled:
        row.enabled = enabled
        row.version += 1
        row.updated_at = clock.now()
        session.flush()


def ensure_default_rules(
    session: Session, clock: Clock, settings: SensingSettings | None = None
) -> int:
    """Load the shipped (or configured) rules file when no rule is stored yet."""
    if session.scalar(select(RuleRow.code).limit(1)) is not None:
        return 0
    return len(load_rules(session, default_rule_specs(settings), clock))


def register_demo_devices(session: Session, clock: Clock, seed: int) -> DemoSensors:
    """Devices for the demo city: see ``sensing.demo``."""
    from onegrid.sensing.demo import register_demo_devices as build

    return build(session, clock, seed)
