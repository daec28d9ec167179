from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from onegrid.core.clock import FixedClock
from onegrid.core.errors import NotAuthenticated
from onegrid.db.session import Database
from onegrid.people import credentials, queries, services
from onegrid.people.credentials import SIGN_IN_FAILED, IssuedToken
from onegrid.people.domain import Grant, LockoutPolicy, Role, Scope, SignInLocked
from onegrid.people.models import AuthSession, LoginFailure
from onegrid.people.passwords import hash_password
from onegrid.people.services import UserPatch

SECRET = "integration-test-secret-key"
TTL = timedelta(hours=2)
PASSWORD = "correct horse battery"
LOCKOUT = LockoutPolicy(max_failures=3, window=timedelta(minutes=10))


@pytest.fixture
def user_id(db: Database, clock: FixedClock, hasher: PasswordHasher) -> int:
    with db.unit_of_work() as s:
        user = services.create_user(
            s,
            "Wang.Li",
            PASSWORD,
            clock,
            hasher=hasher,
            grants=[Grant(Role.DISPATCHER, Scope.area("110105"))],
        )
        return user.id


def _sign_in(
    db: Database,
    clock: FixedClock,
    hasher: PasswordHasher,
    username: str = "wang.li",
    password: str = PASSWORD,
) -> IssuedToken:
    return credentials.sign_in(
        db, username, password, clock, secret_key=SECRET, ttl=TTL, lockout=LOCKOUT, hasher=hasher
    )


def _who(db: Database, clock: FixedClock, token: str) -> object:
    with db.unit_of_work() as s:
        return credentials.principal_from_token(s, token, clock, SECRET)


def test_sign_in_opens_a_session_the_token_points_at(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    issued = _sign_in(db, clock, hasher, username="WANG.LI")
    assert issued.user_id == user_id
    assert issued.expires_at == clock.now() + TTL
    with db.unit_of_work() as s:
        principal = credentials.principal_from_token(s, issued.access_token, clock, SECRET)
        assert principal is not None
        assert principal.user_id == user_id
        assert principal.session_id == issued.session_id
        assert principal.grants == (Grant(Role.DISPATCHER, Scope.area("110105")),)
        assert queries.get_user(s, user_id).last_sign_in_at == clock.now()
        assert s.get(AuthSession, issued.session_id) is not None


@pytest.mark.parametrize(
    ("username", "password"), [("wang.li", "wrong password!"), ("nobody", PASSWORD)]
)
def test_failures_all_say_the_same(
    db: Database,
    clock: FixedClock,
    hasher: PasswordHasher,
    user_id: int,
    username: str,
    password: str,
) -> None:
    with pytest.raises(NotAuthenticated) as exc:
        _sign_in(db, clock, hasher, username, password)
    assert exc.value.message == SIGN_IN_FAILED
    assert not isinstance(exc.value, SignInLocked)
    with db.reader() as s:  # the failure was recorded although the call failed
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 1


def test_lockout_after_repeated_failures_then_release(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        with pytest.raises(NotAuthenticated):
            _sign_in(db, clock, hasher, password="wrong password!")
    with pytest.raises(SignInLocked, match="try again after"):
        _sign_in(db, clock, hasher)  # even the right password is refused while locked
    clock.advance(timedelta(minutes=9, seconds=59))  # the first failure has left the window,
    with pytest.raises(SignInLocked):  # but the lock lasts 10 minutes after the last one
        _sign_in(db, clock, hasher)
    clock.advance(timedelta(seconds=1))
    _sign_in(db, clock, hasher)
    with db.reader() as s:  # success clears the count
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_unknown_usernames_lock_too(
    db: Database, clock: FixedClock, hasher: PasswordHasher
) -> None:
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            _sign_in(db, clock, hasher, username="Ghost")
    with pytest.raises(SignInLocked):
        _sign_in(db, clock, hasher, username="ghost")


def test_password_rehashed_on_sign_in_when_parameters_change(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    old_params = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    with db.unit_of_work() as s:
        queries.get_user(s, user_id).password_hash = hash_password(PASSWORD, old_params)
    _sign_in(db, clock, hasher)
    with db.reader() as s:
        stored = queries.get_user(s, user_id).password_hash
    assert stored is not None and "m=1024" in stored
    _sign_in(db, clock, hasher)  # and the new hash works


def test_deactivated_user_cannot_sign_in_and_loses_sessions(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    issued = _sign_in(db, clock, hasher)
    with db.unit_of_work() as s:
        services.update_user(s, user_id, UserPatch(active=False), clock)
    assert _who(db, clock, issued.access_token) is None
    with pytest.raises(NotAuthenticated, match=SIGN_IN_FAILED):
        _sign_in(db, clock, hasher)


def test_token_expires_with_the_clock(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    issued = _sign_in(db, clock, hasher)
    clock.advance(TTL - timedelta(seconds=1))
    assert _who(db, clock, issued.access_token) is not None
    clock.advance(timedelta(seconds=1))
    assert _who(db, clock, issued.access_token) is None


def test_sign_out_revokes_the_token(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    one = _sign_in(db, clock, hasher)
    two = _sign_in(db, clock, hasher)
    with db.unit_of_work() as s:
        assert credentials.sign_out(s, one.session_id, clock)
        assert not credentials.sign_out(s, one.session_id, clock)
    assert _who(db, clock, one.access_token) is None
    assert _who(db, clock, two.access_token) is not None
    with db.unit_of_work() as s:
        assert credentials.purge_sessions(s, clock) == 1


def test_password_change_ends_other_sessions(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    current = _sign_in(db, clock, hasher)
    other = _sign_in(db, clock, hasher)
    with db.unit_of_work() as s:
        services.set_password(
            s,
            user_id,
            "a brand new password",
            clock,
            keep_session_id=current.session_id,
            hasher=hasher,
        )
    assert _who(db, clock, current.access_token) is not None
    assert _who(db, clock, other.access_token) is None
    with pytest.raises(NotAuthenticated):
        _sign_in(db, clock, hasher)
    _sign_in(db, clock, hasher, password="a brand new password")


def test_token_signed_with_another_secret_is_refused(
    db: Database, clock: FixedClock, hasher: PasswordHasher, user_id: int
) -> None:
    issued = _sign_in(db, clock, hasher)
    with db.unit_of_work() as s:
        assert (
            credentials.principal_from_token(s, issued.access_token, clock, "some-other-secret-key")
            is None
        )
