from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onegrid.db.session import Database
from onegrid.people import queries, services
from onegrid.people.domain import Grant, PrincipalKind, Role, Scope
from onegrid.people.models import User
from onegrid.people.services import UserPatch

PASSWORD = "correct horse battery"
R = Role


def _departments(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        services.create_department(s, "SAN", "环卫", clock, area_code="110105")
        services.create_department(s, "ROADS", "道路", clock, area_code="110101")


def _user(
    db: Database,
    clock: FixedClock,
    hasher: PasswordHasher,
    name: str,
    *grants: Grant,
    departments: tuple[str, ...] = (),
) -> int:
    with db.unit_of_work() as s:
        user = services.create_user(
            s, name, PASSWORD, clock, grants=grants, department_codes=departments, hasher=hasher
        )
        return user.id


def _principal(db: Database, user_id: int):  # type: ignore[no-untyped-def]
    with db.reader() as s:
        return queries.principal_of(queries.get_user(s, user_id))


def test_create_user_with_grants_and_departments(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    _departments(db, clock)
    with db.unit_of_work() as s:
        user = services.create_user(
            s,
            "Wang.Li",
            PASSWORD,
            clock,
            display_name="王丽",
            phone="13812345678",
            email="wang@example.org",
            grants=[
                Grant(R.DEPARTMENT_HANDLER, Scope.department("SAN")),
                Grant(R.INSPECTOR, Scope.area("110105001")),
            ],
            department_codes=["ROADS"],
            hasher=hasher,
        )
        user_id = user.id
    with db.reader() as s:
        user = queries.get_user_by_username(s, "WANG.LI")
        assert (user.id, user.username, user.display_name, user.active) == (
            user_id,
            "Wang.Li",
            "王丽",
            True,
        )
        assert user.password_hash and user.password_hash.startswith("$argon2id$")
        assert user.created_at == clock.now()
        principal = queries.principal_of(user)
    assert principal.kind is PrincipalKind.USER
    assert principal.subject_id == user_id
    assert set(principal.grants) == {
        Grant(R.DEPARTMENT_HANDLER, Scope.department("SAN")),
        Grant(R.INSPECTOR, Scope.area("110105001")),
    }
    assert principal.department_codes == {"SAN", "ROADS"}


def test_usernames_are_unique_regardless_of_case(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    _user(db, clock, hasher, "wang.li")
    with pytest.raises(Conflict, match="taken"), db.unit_of_work() as s:
        services.create_user(s, "WANG.LI", PASSWORD, clock, hasher=hasher)


def test_bad_input_writes_nothing_and_names_every_field(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.create_user(
            s,
            "x",
            "short",
            clock,
            email="not-mail",
            phone="abc",
            grants=[Grant(R.DEPARTMENT_HANDLER, Scope.department("NOPE"))],
            department_codes=["ALSO_NOPE"],
            hasher=hasher,
        )
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("username", "username_format"),
        ("password", "min_length"),
        ("email", "email_format"),
        ("phone", "phone_format"),
        ("grants", "exists"),
        ("department_codes", "exists"),
    }
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


def test_add_and_remove_grants(db: Database, clock: FixedClock, hasher: PasswordHasher) -> None:
    user_id = _user(db, clock, hasher, "lili")
    with db.unit_of_work() as s:
        first = services.add_grant(s, user_id, "dispatcher", "110105", clock)
        again = services.add_grant(s, user_id, R.DISPATCHER, Scope.area("110105"), clock)
        assert first.id == again.id  # giving a held grant changes nothing
        assert first.granted_by == "console"
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.add_grant(s, user_id, "city_admin", "110105", clock)
    assert exc.value.problems[0].rule == "scope_kind_for_role"
    with db.unit_of_work() as s:
        services.remove_grant(s, user_id, "dispatcher", "110105", clock)
    assert _principal(db, user_id).grants == ()
    with pytest.raises(NotFound), db.unit_of_work() as s:
        services.remove_grant(s, user_id, "dispatcher", "110105", clock)


def test_update_user_replaces_grants_and_departments(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    _departments(db, clock)
    user_id = _user(
        db, clock, hasher, "lili", Grant(R.INSPECTOR, Scope.area("110105001")), departments=("SAN",)
    )
    with db.unit_of_work() as s:
        services.update_user(
            s,
            user_id,
            UserPatch(
                display_name="李",
                phone="13900001111",
                email="",
                grants=(Grant(R.DISPATCHER, Scope.city()),),
                department_codes=("ROADS",),
            ),
            clock,
        )
    p = _principal(db, user_id)
    assert p.grants == (Grant(R.DISPATCHER, Scope.city()),)
    assert p.department_codes == {"ROADS"}
    with db.reader() as s:
        user = queries.get_user(s, user_id)
        assert (user.display_name, user.phone, user.email) == ("李", "13900001111", None)


def test_district_admin_grants_only_inside_its_district(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    _departments(db, clock)
    admin_id = _user(db, clock, hasher, "admin105", Grant(R.DISTRICT_ADMIN, Scope.area("110105")))
    admin = _principal(db, admin_id)
    with db.unit_of_work() as s:
        inside = services.create_user(
            s,
            "insp",
            PASSWORD,
            clock,
            hasher=hasher,
            by=admin,
            grants=[
                Grant(R.INSPECTOR, Scope.area("110105001")),
                Grant(R.DEPARTMENT_HANDLER, Scope.department("SAN")),
            ],
        )
        assert inside.grants[0].granted_by == f"user:{admin_id}"
    refused = [
        Grant(R.INSPECTOR, Scope.city()),
        Grant(R.INSPECTOR, Scope.area("110101001")),
        Grant(R.DEPARTMENT_HANDLER, Scope.department("ROADS")),
        Grant(R.CITY_ADMIN, Scope.city()),
    ]
    for grant in refused:
        with pytest.raises(PermissionDenied, match=r"people\.admin"), db.unit_of_work() as s:
            services.create_user(
                s, "other", PASSWORD, clock, grants=[grant], by=admin, hasher=hasher
            )


def test_nobody_takes_over_a_wider_account(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    admin_id = _user(db, clock, hasher, "admin105", Grant(R.DISTRICT_ADMIN, Scope.area("110105")))
    wide_id = _user(
        db,
        clock,
        hasher,
        "wide",
        Grant(R.DISPATCHER, Scope.city()),
        Grant(R.INSPECTOR, Scope.area("110105001")),
    )
    mine_id = _user(db, clock, hasher, "mine", Grant(R.INSPECTOR, Scope.area("110105002")))
    admin = _principal(db, admin_id)
    with pytest.raises(PermissionDenied, match="wide"), db.unit_of_work() as s:
        services.set_password(s, wide_id, "a brand new password", clock, by=admin, hasher=hasher)
    with pytest.raises(PermissionDenied), db.unit_of_work() as s:
        services.update_user(s, wide_id, UserPatch(active=False), clock, by=admin)
    with db.unit_of_work() as s:
        services.update_user(s, mine_id, UserPatch(active=False), clock, by=admin)
        # Seen in the list (some access lies in the district) but not manageable.
        page = queries.list_users(s, admin)
        assert [u.username for u in page.users] == ["admin105", "mine", "wide"]
        assert page.total == 3
        assert queries.may_manage(s, admin, queries.get_user(s, mine_id))
        assert not queries.may_manage(s, admin, queries.get_user(s, wide_id))


def test_no_one_deactivates_themselves(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    admin_id = _user(db, clock, hasher, "boss", Grant(R.CITY_ADMIN, Scope.city()))
    admin = _principal(db, admin_id)
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.update_user(s, admin_id, UserPatch(active=False), clock, by=admin)
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("active", "not_self")


def test_changing_your_own_password_needs_the_current_one(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    user_id = _user(db, clock, hasher, "lili", Grant(R.ANALYST, Scope.city()))
    me = _principal(db, user_id)
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.set_password(
            s,
            user_id,
            "a brand new password",
            clock,
            by=me,
            current_password="wrong password",
            hasher=hasher,
        )
    assert exc.value.problems[0].field == "current_password"
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        services.set_password(
            s, user_id, "short", clock, by=me, current_password=PASSWORD, hasher=hasher
        )
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("password", "min_length")
    with db.unit_of_work() as s:
        services.set_password(
            s,
            user_id,
            "a brand new password",
            clock,
            by=me,
            current_password=PASSWORD,
            hasher=hasher,
        )
        assert queries.get_user(s, user_id).password_changed_at == clock.now()


def test_list_filters(db: Database, clock: FixedClock, hasher: PasswordHasher) -> None:
    _user(db, clock, hasher, "alpha", Grant(R.ANALYST, Scope.city()))
    _user(db, clock, hasher, "beta", Grant(R.INSPECTOR, Scope.area("110105")))
    _user(db, clock, hasher, "alphonse")
    with db.reader() as s:
        assert [u.username for u in queries.list_users(s, search="ALPH").users] == [
            "alpha",
            "alphonse",
        ]
        assert [u.username for u in queries.list_users(s, role=R.INSPECTOR).users] == ["beta"]
        page = queries.list_users(s, limit=1, offset=1)
        assert ([u.username for u in page.users], page.total) == (["alphonse"], 3)
