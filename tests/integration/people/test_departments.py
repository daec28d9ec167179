from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onegrid.db.session import Database
from onegrid.people import queries, services
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from onegrid.people.services import DepartmentPatch

DISTRICT_ADMIN = Principal(
    1, "admin-105", PrincipalKind.USER, (Grant(Role.DISTRICT_ADMIN, Scope.area("110105")),)
)


def test_create_list_and_get(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        services.create_department(
            s,
            "GOV105",
            "朝阳区政府",
            clock,
            name_en="Chaoyang District",
            kind="district_government",
            area_code="110105",
        )
        services.create_department(
            s,
            "SAN105",
            "朝阳区环卫中心",
            clock,
            kind="bureau",
            area_code="110105",
            parent_code="GOV105",
            phone="010-6509 1234",
        )
    with db.reader() as s:
        rows = queries.list_departments(s)
        assert [d.code for d in rows] == ["GOV105", "SAN105"]
        san = queries.get_department(s, "SAN105")
        assert (san.parent_code, san.kind, san.active, san.phone) == (
            "GOV105",
            "bureau",
            True,
            "010-6509 1234",
        )
        assert san.name_en == "朝阳区环卫中心"  # falls back to the Chinese name
        assert san.created_at == clock.now()
        assert [d.code for d in queries.list_departments(s, area_code="110105")] == [
            "GOV105",
            "SAN105",
        ]
        with pytest.raises(NotFound):
            queries.get_department(s, "NOPE")


def test_duplicate_code_is_a_conflict(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        services.create_department(s, "SAN", "环卫", clock)
    with pytest.raises(Conflict, match="SAN"), db.unit_of_work() as s:
        services.create_department(s, "SAN", "环卫二", clock)


def test_every_bad_field_is_reported_at_once(db: Database, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.create_department(
            s, "bad code", "", clock, kind="ministry", parent_code="MISSING", phone="call me"
        )
    problems = {(p.field, p.rule) for p in exc.value.problems}
    assert problems == {
        ("code", "code_format"),
        ("name_zh", "required"),
        ("kind", "known_department_kind"),
        ("parent_code", "exists"),
        ("phone", "phone_format"),
    }
    with db.reader() as s:
        assert queries.list_departments(s) == []


def test_update_and_clear(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        services.create_department(s, "A", "甲", clock, phone="12345", area_code="110105")
    clock.advance(timedelta(hours=1))
    with db.unit_of_work() as s:
        d = services.update_department(
            s, "A", DepartmentPatch(name_en="Alpha", phone="", active=False, area_code=""), clock
        )
        assert (d.name_en, d.phone, d.active, d.area_code) == ("Alpha", None, False, None)
        assert d.updated_at == clock.now() != d.created_at
    with db.reader() as s:
        assert queries.list_departments(s, active_only=True) == []


def test_parent_cycle_is_refused(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        services.create_department(s, "A", "甲", clock)
        services.create_department(s, "B", "乙", clock, parent_code="A")
        services.create_department(s, "C", "丙", clock, parent_code="B")
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.update_department(s, "A", DepartmentPatch(parent_code="C"), clock)
    assert exc.value.problems[0].rule == "no_cycle"
    with db.reader() as s:
        assert queries.get_department(s, "A").parent_code is None


def test_district_admin_manages_departments_in_its_district_only(
    db: Database, clock: FixedClock
) -> None:
    with db.unit_of_work() as s:
        services.create_department(
            s,
            "SUB1",
            "街道",
            clock,
            kind="subdistrict_office",
            area_code="110105001",
            by=DISTRICT_ADMIN,
        )
    for area in ("110101", None):
        with pytest.raises(PermissionDenied, match=r"people\.admin"), db.unit_of_work() as s:
            services.create_department(s, "OUT", "外", clock, area_code=area, by=DISTRICT_ADMIN)
    with pytest.raises(PermissionDenied), db.unit_of_work() as s:
        services.update_department(
            s, "SUB1", DepartmentPatch(area_code="110101"), clock, by=DISTRICT_ADMIN
        )
