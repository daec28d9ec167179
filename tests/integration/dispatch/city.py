"""The cases' test city plus what the desk needs: a district government to fall back to (the
suburb's subdistrict loses its territorial rule), a knowledge base, and the desk's people."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from onegrid.cases.domain.states import Nature
from onegrid.core.clock import Clock
from onegrid.dispatch.config import dispatch_settings
from onegrid.dispatch.hotline.intake import CallDraft
from onegrid.dispatch.hotline.knowledge import load_answers
from onegrid.grid import queries as grid_queries
from onegrid.grid import services as grid
from onegrid.people import services as people
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.integration.cases.city import (
    IN_CORE,
    SUBURB,
    SUBURB_SUB,
    build_city,
)

SUBURB_GOVERNMENT = f"{SUBURB}ZF"


def build_desk_city(session: Session, clock: Clock, tmp: Path) -> None:
    build_city(session, clock, tmp)
    people.create_department(session, SUBURB_GOVERNMENT, "郊区人民政府", clock)
    [rule] = [
        r
        for r in grid_queries.duty_rules(session, area_codes=[SUBURB_SUB])
        if r.kind == "territorial"
    ]
    grid.end_duty_rule(session, rule_id=rule.id, valid_to=date(2026, 1, 1))
    load_answers(session, dispatch_settings().knowledge_base_file, clock)


def _principal(user_id: int, *roles: Role) -> Principal:
    grants = tuple(Grant(r, Scope.city()) for r in roles)
    return Principal(user_id, f"user{user_id}", PrincipalKind.USER, grants)


OPERATOR = _principal(31, Role.HOTLINE_OPERATOR)
# A 12345 centre that files and dispatches itself (直派): the desk holds those roles too.
DESK = _principal(32, Role.HOTLINE_OPERATOR, Role.REGISTRAR, Role.SHIFT_LEADER, Role.DISPATCHER)


def call_draft(**changes: object) -> CallDraft:
    """A complaint about rubbish in the core area; ``changes`` replace any of its fields."""
    values: dict[str, object] = dict(
        nature=Nature.COMPLAINT,
        text="小区门口垃圾堆积三天无人清理",
        caller_phone="13900001111",
        lon=IN_CORE[0],
        lat=IN_CORE[1],
        category_code="E0102",
    )
    values.update(changes)
    return CallDraft(**values)  # type: ignore[arg-type]
