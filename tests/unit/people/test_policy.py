"""The permission table, checked over every role × action × scope against a spec written from
the domain (who does what in a supervision/command centre), not derived from the code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from onegrid.core.errors import PermissionDenied
from onegrid.people.domain import ANONYMOUS, Grant, Principal, PrincipalKind, Role, Scope
from onegrid.people.policy import (
    ACTIONS,
    Reporter,
    UnknownActionError,
    allowed_actions,
    can,
    can_see_personal_data,
    can_somewhere,
    reach,
    reporter_for,
    require,
    require_somewhere,
    role_labels,
    roles_for,
)

R = Role
PUBLIC = {"case.create", "case.read_public"}
# Done by the server itself (PrincipalKind.SYSTEM), never by a user or an API key of any role.
SYSTEM_ONLY = {"case.auto_close"}
READ_REFERENCE = {"grid.read", "assets.read", "people.read"}
# What each role may do inside its scope (public actions come on top for everyone).
SPEC: dict[Role, set[str]] = {
    R.INSPECTOR: {"case.verify", "case.check", "case.comment", "case.read", *READ_REFERENCE},
    R.REGISTRAR: {
        "case.verify.request",
        "case.merge",
        "case.split",
        "case.comment",
        "case.read",
        "case.read_personal_data",
        *READ_REFERENCE,
    },
    R.SHIFT_LEADER: {
        "case.verify.request",
        "case.file",
        "case.cancel",
        "case.close",
        "case.rework",
        "case.extend.approve",
        "case.hold",
        "case.resume",
        "case.reopen",
        "case.merge",
        "case.split",
        "case.comment",
        "case.read",
        "case.read_personal_data",
        "analytics.read",
        "analytics.export",
        *READ_REFERENCE,
    },
    R.DISPATCHER: {
        "case.dispatch",
        "case.merge",
        "case.comment",
        "case.read",
        "case.read_personal_data",
        "analytics.read",
        "analytics.export",
        *READ_REFERENCE,
    },
    R.DEPARTMENT_HANDLER: {
        "case.accept",
        "case.return",
        "case.handle",
        "case.report_back",
        "case.extend.request",
        "case.hold.request",
        "case.comment",
        "case.read",
        "case.read_personal_data",
        "analytics.read",
        "analytics.export",
        *READ_REFERENCE,
    },
    R.HOTLINE_OPERATOR: {
        "case.verify.request",
        "case.file",
        "case.dispatch",
        "case.reopen",
        "case.merge",
        "case.comment",
        "case.read",
        "case.read_personal_data",
        "hotline.intake",
        "hotline.callback",
        *READ_REFERENCE,
    },
    R.ANALYST: {"analytics.read", "analytics.export", "ledger.read", *READ_REFERENCE},
    R.OPEN311_CLIENT: {"open311.post"},
    R.SENSOR_GATEWAY: {"sensing.ingest"},
    R.CITIZEN: set(),
    R.DISTRICT_ADMIN: set(ACTIONS) - SYSTEM_ONLY,
    R.CITY_ADMIN: set(ACTIONS) - SYSTEM_ONLY,
}
# A citizen acts on their own reports only.
CITIZEN_OWN = {"case.read", "case.comment", "case.evaluate", "case.read_personal_data"}

ME = 7
IN_DISTRICT = ("110000", "110105", "110105001", "110105001001")
OTHER_DISTRICT = ("110000", "110101", "110101002")


@dataclass(frozen=True)
class Target:
    area_chain: tuple[str, ...] = ()
    department_code: str | None = None
    owner_id: int | None = None


@dataclass(frozen=True)
class Case:
    """How one role is granted in the matrix, and an object inside and outside its scope."""

    scope: Scope
    inside: Target
    outside: Target


def _case(role: Role) -> Case:
    if role is R.CITY_ADMIN:
        return Case(Scope.city(), Target(IN_DISTRICT), Target(OTHER_DISTRICT, "ROADS"))
    if role is R.CITIZEN:
        return Case(Scope.city(), Target(IN_DISTRICT, owner_id=ME), Target(IN_DISTRICT, owner_id=8))
    if role is R.DEPARTMENT_HANDLER:
        # Same area either way: only the department decides.
        return Case(
            Scope.department("SAN"), Target(OTHER_DISTRICT, "SAN"), Target(IN_DISTRICT, "ROADS")
        )
    code = "110105" if role is R.DISTRICT_ADMIN else "110105001"
    return Case(Scope.area(code), Target(IN_DISTRICT, "ROADS"), Target(OTHER_DISTRICT, "SAN"))


def _user(*grants: Grant, subject_id: int = ME) -> Principal:
    return Principal(subject_id, "someone", PrincipalKind.USER, tuple(grants))


def _allowed(p: Principal, action: str, t: Target) -> bool:
    return can(
        p, action, area_chain=t.area_chain, department_code=t.department_code, owner_id=t.owner_id
    )


def test_spec_names_only_known_actions() -> None:
    for actions in SPEC.values():
        assert actions <= set(ACTIONS)
    assert set(SPEC) == set(Role)
    assert set(ACTIONS) >= PUBLIC | CITIZEN_OWN


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_action_and_scope(role: Role, action: str) -> None:
    case = _case(role)
    p = _user(Grant(role, case.scope))
    public = action in PUBLIC
    in_spec = action in SPEC[role] or (role is R.CITIZEN and action in CITIZEN_OWN)
    assert _allowed(p, action, case.inside) is (public or in_spec)
    everywhere = role is R.CITY_ADMIN and in_spec
    assert _allowed(p, action, case.outside) is (public or everywhere)
    # An object with no area and no department: only city-wide grants reach it.
    assert _allowed(p, action, Target()) is (public or everywhere)
    assert can_somewhere(p, action) is (public or in_spec)


CITY_WIDE = [r for r in Role if r not in (R.DEPARTMENT_HANDLER, R.DISTRICT_ADMIN, R.CITIZEN)]


@pytest.mark.parametrize("role", CITY_WIDE, ids=str)
def test_city_wide_grants_reach_every_area(role: Role) -> None:
    p = _user(Grant(role, Scope.city()))
    for action in ACTIONS:
        expected = action in PUBLIC or action in SPEC[role]
        for target in (Target(IN_DISTRICT), Target(OTHER_DISTRICT, "SAN"), Target()):
            assert _allowed(p, action, target) is expected, (role, action, target)


def test_anonymous_may_only_do_public_actions() -> None:
    for action in ACTIONS:
        assert can(ANONYMOUS, action, area_chain=IN_DISTRICT) is (action in PUBLIC)
    assert allowed_actions(ANONYMOUS) == sorted(PUBLIC)


def test_own_check_needs_a_user_not_a_key_with_the_same_id() -> None:
    key = Principal(ME, "gateway", PrincipalKind.API_KEY, (Grant(R.CITIZEN, Scope.city()),))
    assert not can(key, "case.read", owner_id=ME)
    assert can(_user(Grant(R.CITIZEN, Scope.city())), "case.read", owner_id=ME)


def test_grants_add_up() -> None:
    p = _user(Grant(R.INSPECTOR, Scope.area("110105001")), Grant(R.DISPATCHER, Scope.city()))
    assert can(p, "case.verify", area_chain=IN_DISTRICT)
    assert not can(p, "case.verify", area_chain=OTHER_DISTRICT)
    assert can(p, "case.dispatch", area_chain=OTHER_DISTRICT)


def test_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(UnknownActionError, match=r"case\.dispach"):
        can(ANONYMOUS, "case.dispach")


def test_require_names_the_action_and_the_roles_that_may() -> None:
    p = _user(Grant(R.INSPECTOR, Scope.area("110105001")))
    with pytest.raises(PermissionDenied) as exc:
        require(p, "case.dispatch", area_chain=IN_DISTRICT)
    assert "case.dispatch" in exc.value.message
    assert "inspector" in exc.value.message
    assert "dispatcher" in exc.value.message


def test_require_out_of_scope_names_the_grant_and_the_object() -> None:
    p = _user(Grant(R.DISPATCHER, Scope.area("110105001")))
    with pytest.raises(PermissionDenied) as exc:
        require(p, "case.dispatch", area_chain=OTHER_DISTRICT, department_code="SAN")
    message = exc.value.message
    assert "case.dispatch" in message
    assert "dispatcher@110105001" in message
    assert "110101002" in message
    require(p, "case.dispatch", area_chain=IN_DISTRICT)  # in scope: no error


def test_require_for_a_citizen_says_only_their_own() -> None:
    p = _user(Grant(R.CITIZEN, Scope.city()))
    with pytest.raises(PermissionDenied, match="only to their own"):
        require(p, "case.read", owner_id=ME + 1)
    with pytest.raises(PermissionDenied, match="anonymous callers hold no role"):
        require_somewhere(ANONYMOUS, "people.admin")


def test_reach_narrows_queries() -> None:
    p = _user(
        Grant(R.DEPARTMENT_HANDLER, Scope.department("SAN")),
        Grant(R.INSPECTOR, Scope.area("110105001")),
        Grant(R.CITIZEN, Scope.city()),
    )
    r = reach(p, "case.read")
    assert not r.everywhere
    assert r.area_codes == {"110105001"}
    assert r.department_codes == {"SAN"}
    assert r.own
    assert r.covers(IN_DISTRICT)
    assert r.covers(OTHER_DISTRICT, "SAN")
    assert not r.covers(OTHER_DISTRICT, "ROADS")
    assert r.covers(OTHER_DISTRICT, owned=True)
    assert reach(_user(Grant(R.CITY_ADMIN, Scope.city())), "people.admin").everywhere
    assert reach(p, "people.admin").nothing
    assert reach(ANONYMOUS, "case.read_public").everywhere


# Who sees a reporter's phone: those who must call back, within their scope.
SEES_PERSONAL_DATA = [
    (R.HOTLINE_OPERATOR, True),
    (R.REGISTRAR, True),
    (R.SHIFT_LEADER, True),
    (R.DISPATCHER, True),
    (R.DISTRICT_ADMIN, True),
    (R.CITY_ADMIN, True),
    (R.DEPARTMENT_HANDLER, True),
    (R.INSPECTOR, False),
    (R.ANALYST, False),
    (R.OPEN311_CLIENT, False),
    (R.SENSOR_GATEWAY, False),
    (R.CITIZEN, False),
]


@pytest.mark.parametrize(("role", "sees"), SEES_PERSONAL_DATA, ids=lambda v: str(v))
def test_personal_data_by_role(role: Role, sees: bool) -> None:
    case = _case(role)
    p = _user(Grant(role, case.scope))
    reporter = Reporter(name="张三丰", phone="13812345678", email="zhang@example.org")
    inside = case.inside
    shown = reporter_for(
        p, reporter, area_chain=inside.area_chain, department_code=inside.department_code
    )
    assert can_see_personal_data(p, inside.area_chain, inside.department_code) is sees
    if sees:
        assert shown == reporter
    else:
        assert shown == Reporter("张**", "138****5678", "z***@example.org")
    outside = case.outside
    if role is not R.CITY_ADMIN:
        masked = reporter_for(
            p, reporter, area_chain=outside.area_chain, department_code=outside.department_code
        )
        assert masked.phone == "138****5678"


def test_reporter_sees_their_own_data() -> None:
    citizen = _user(Grant(R.CITIZEN, Scope.city()))
    reporter = Reporter(phone="13812345678")
    assert reporter_for(citizen, reporter, owner_id=ME).phone == "13812345678"
    assert reporter_for(citizen, reporter, owner_id=ME + 1).phone == "138****5678"
    assert reporter_for(ANONYMOUS, reporter).phone == "138****5678"


def test_system_only_actions_need_the_system_itself() -> None:
    gateway = (Grant(R.SENSOR_GATEWAY, Scope.city()),)
    system = Principal(None, "sensing", PrincipalKind.SYSTEM, gateway)
    for action in SYSTEM_ONLY:
        assert can(system, action, area_chain=IN_DISTRICT)
        assert can_somewhere(system, action)
        key = Principal(3, "gateway key", PrincipalKind.API_KEY, gateway)
        admin = _user(Grant(R.CITY_ADMIN, Scope.city()))
        for other in (key, admin, _user(*gateway)):
            assert not can(other, action, area_chain=IN_DISTRICT)
            assert not can_somewhere(other, action)
            assert reach(other, action).nothing
            with pytest.raises(PermissionDenied, match="only the system"):
                require(other, action, area_chain=IN_DISTRICT)


# A department system moves its cases only by Open311 updates (open311.department_update, under
# which the case service takes the steps): no case.* permission of its own, so the case API,
# which takes any attachment of the case and no update_id, refuses it.
DEPARTMENT_SYSTEM_ACTIONS = {"open311.department_update"}
CASE_STEPS = ("case.accept", "case.return", "case.handle", "case.report_back")


def test_a_department_system_acts_only_on_its_departments_cases() -> None:
    key = Principal(
        3,
        "roads-system",
        PrincipalKind.API_KEY,
        (Grant(R.OPEN311_CLIENT, Scope.department("ROADS")),),
    )
    for action in ACTIONS:
        expected = action in DEPARTMENT_SYSTEM_ACTIONS
        allowed = action in PUBLIC or expected or action == "open311.post"
        assert can(key, action, area_chain=IN_DISTRICT, department_code="ROADS") is allowed, action
        assert can(key, action, area_chain=IN_DISTRICT, department_code="SAN") is (
            action in PUBLIC
        ), action
        assert can(key, action, area_chain=IN_DISTRICT) is (action in PUBLIC), action
        assert can_somewhere(key, action) is allowed, action
    assert reach(key, "open311.department_update").department_codes == {"ROADS"}
    with pytest.raises(PermissionDenied) as exc:
        require(key, "open311.department_update", area_chain=IN_DISTRICT, department_code="SAN")
    assert (
        "open311_client@dept:ROADS" in exc.value.message and "department SAN" in exc.value.message
    )
    for step in CASE_STEPS:
        assert not can(key, step, area_chain=IN_DISTRICT, department_code="ROADS"), step
        assert reach(key, step).nothing, step
        assert R.OPEN311_CLIENT not in roles_for(step), step
        with pytest.raises(PermissionDenied) as exc:
            require(key, step, area_chain=IN_DISTRICT, department_code="ROADS")
        assert "open311_client" not in exc.value.message.split("roles that may:")[1], step


def test_only_a_department_scoped_key_is_told_its_role_may_post_department_updates() -> None:
    assert role_labels("open311.department_update") == [
        "city_admin",
        "district_admin",
        "open311_client (department-scoped key only)",
    ]
    assert role_labels("open311.post") == ["city_admin", "district_admin", "open311_client"]
    fms = Principal(
        4, "fixmystreet", PrincipalKind.API_KEY, (Grant(R.OPEN311_CLIENT, Scope.city()),)
    )
    with pytest.raises(PermissionDenied) as exc:
        require(fms, "open311.department_update", area_chain=IN_DISTRICT, department_code="SAN")
    message = exc.value.message
    assert "roles that may: city_admin, district_admin, open311_client (department-scoped key" in (
        message
    )
    assert "; open311_client may do it only under a department grant" in message


@pytest.mark.parametrize("scope", [Scope.city(), Scope.area("110105")], ids=str)
def test_a_citizens_open311_client_moves_no_case(scope: Scope) -> None:
    key = Principal(4, "fixmystreet", PrincipalKind.API_KEY, (Grant(R.OPEN311_CLIENT, scope),))
    for action in DEPARTMENT_SYSTEM_ACTIONS:
        assert not can(key, action, area_chain=IN_DISTRICT, department_code="ROADS")
        assert not can_somewhere(key, action)
        assert reach(key, action).nothing
