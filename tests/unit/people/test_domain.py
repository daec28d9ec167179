from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.people.domain import (
    ANONYMOUS,
    Grant,
    LockoutPolicy,
    Principal,
    PrincipalKind,
    Role,
    Scope,
    ScopeKind,
    check_grant,
    check_password,
    check_username,
    implied_area_chain,
    normalize_username,
    parse_role,
)


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("city", Scope.city()),
        ("CITY", Scope.city()),
        ("110105", Scope(ScopeKind.AREA, "110105")),
        ("area:110105001", Scope(ScopeKind.AREA, "110105001")),
        ("dept:SANITATION", Scope(ScopeKind.DEPARTMENT, "SANITATION")),
        ("department:ROADS", Scope(ScopeKind.DEPARTMENT, "ROADS")),
    ],
)
def test_scope_parse(text: str, scope: Scope) -> None:
    assert Scope.parse(text) == scope
    assert Scope.parse(str(scope)) == scope


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("dept:", "code_format"),
        ("x:1", "scope_format"),
        ("a b", "code_format"),
        ("", "code_format"),
    ],
)
def test_scope_parse_refuses_with_the_field_and_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        Scope.parse(text, "grants.0.scope")
    assert exc.value.problems[0].field == "grants.0.scope"
    assert exc.value.problems[0].rule == rule


def test_scope_needs_a_code_except_for_the_city() -> None:
    with pytest.raises(ValueError, match="scope"):
        Scope(ScopeKind.AREA, "")
    with pytest.raises(ValueError, match="scope"):
        Scope(ScopeKind.CITY, "110000")


@pytest.mark.parametrize(
    ("role", "scope", "ok"),
    [
        (Role.CITY_ADMIN, Scope.city(), True),
        (Role.CITY_ADMIN, Scope.area("110105"), False),
        (Role.DISTRICT_ADMIN, Scope.area("110105"), True),
        (Role.DISTRICT_ADMIN, Scope.city(), False),
        (Role.DEPARTMENT_HANDLER, Scope.department("SAN"), True),
        (Role.DEPARTMENT_HANDLER, Scope.area("110105"), False),
        (Role.INSPECTOR, Scope.department("SAN"), False),
        (Role.CITIZEN, Scope.city(), True),
        (Role.CITIZEN, Scope.area("110105"), False),
        (Role.OPEN311_CLIENT, Scope.department("BIKES"), True),
    ],
)
def test_role_scope_kinds(role: Role, scope: Scope, ok: bool) -> None:
    if ok:
        assert check_grant(role, scope) == Grant(role, scope)
    else:
        with pytest.raises(InvalidInput) as exc:
            check_grant(role, scope)
        assert exc.value.problems[0].rule == "scope_kind_for_role"
        assert role.value in exc.value.problems[0].message


def test_unknown_role_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_role("janitor")
    assert exc.value.problems[0].field == "role"
    assert "shift_leader" in exc.value.problems[0].message


@pytest.mark.parametrize(
    ("password", "rule"),
    [("123456789", "min_length"), ("x" * 257, "max_length"), (" " * 12, "not_blank")],
)
def test_password_policy_names_field_and_rule(password: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_password(password)
    problem = exc.value.problems[0]
    assert (problem.field, problem.rule) == ("password", rule)
    if rule == "min_length":
        assert "at least 10 characters" in problem.message


def test_password_of_ten_characters_is_enough() -> None:
    assert check_password("abcdefghij") == "abcdefghij"


def test_usernames() -> None:
    assert check_username(" wang.li ") == "wang.li"
    assert check_username("王丽_01") == "王丽_01"
    assert normalize_username("Wang.Li") == normalize_username("WANG.LI") == "wang.li"
    for bad in ("ab", "has space", "x" * 65, "semi;colon"):
        with pytest.raises(InvalidInput) as exc:
            check_username(bad)
        assert exc.value.problems[0].rule == "username_format"


def test_implied_area_chain_follows_chinese_code_structure() -> None:
    assert implied_area_chain("110105001002003") == (
        "110105",
        "110105001",
        "110105001002",
        "110105001002003",
    )
    assert implied_area_chain("110105001") == ("110105", "110105001")
    assert implied_area_chain("110105") == ("110105",)
    assert implied_area_chain("DOWNTOWN") == ("DOWNTOWN",)


def test_principal_actor_and_ids() -> None:
    user = Principal(3, "wang", PrincipalKind.USER)
    key = Principal(3, "gw", PrincipalKind.API_KEY)
    assert (user.actor, user.user_id) == ("user:3", 3)
    assert (key.actor, key.user_id) == ("api_key:3", None)
    assert ANONYMOUS.actor == "anonymous"
    assert ANONYMOUS.is_anonymous and not ANONYMOUS.grants


T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_lockout_after_n_failures_within_the_window() -> None:
    policy = LockoutPolicy(max_failures=3, window=timedelta(minutes=10))
    failures = [T0, T0 + timedelta(minutes=1)]
    assert policy.locked_until(failures, T0 + timedelta(minutes=2)) is None
    failures.append(T0 + timedelta(minutes=2))
    # Locked for the whole window after the failure that reached three...
    until = T0 + timedelta(minutes=12)
    assert policy.locked_until(failures, T0 + timedelta(minutes=2)) == until
    # ...even after the first of them has left the window,
    assert policy.locked_until(failures, T0 + timedelta(minutes=11)) == until
    # and not a moment longer; then the count starts afresh.
    assert policy.locked_until(failures, until) is None
    assert policy.locked_until([*failures, until], until) is None


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    policy = LockoutPolicy(max_failures=3, window=timedelta(minutes=10))
    failures = [T0, T0 + timedelta(minutes=6), T0 + timedelta(minutes=12)]
    assert policy.locked_until(failures, T0 + timedelta(minutes=12)) is None
    assert policy.lookback == timedelta(minutes=20)


def test_old_failures_do_not_count() -> None:
    policy = LockoutPolicy(max_failures=2, window=timedelta(minutes=5))
    failures = [T0, T0 + timedelta(minutes=6)]
    assert policy.locked_until(failures, T0 + timedelta(minutes=6)) is None
