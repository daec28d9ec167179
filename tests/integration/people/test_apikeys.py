from __future__ import annotations

from datetime import timedelta

import pytest

from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput, NotFound, PermissionDenied
from onegrid.db.session import Database
from onegrid.people import credentials, queries, services
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope


def test_create_use_and_revoke(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        key, raw = credentials.create_api_key(s, "open311 gateway", "open311_client", "city", clock)
        key_id, prefix = key.id, key.prefix
        assert raw not in key.key_hash and key.prefix in raw
        assert key.last_used_at is None
    with db.unit_of_work() as s:
        principal = credentials.principal_from_api_key(s, raw, clock)
        assert principal is not None
        assert (principal.kind, principal.subject_id, principal.name) == (
            PrincipalKind.API_KEY,
            key_id,
            "open311 gateway",
        )
        assert principal.grants == (Grant(Role.OPEN311_CLIENT, Scope.city()),)
    with db.reader() as s:
        assert queries.api_key_by_prefix(s, prefix).last_used_at == clock.now()  # type: ignore[union-attr]
    with db.unit_of_work() as s:
        credentials.revoke_api_key(s, prefix, clock)
    with db.unit_of_work() as s:
        assert credentials.principal_from_api_key(s, raw, clock) is None
        assert queries.list_api_keys(s) == []
        assert len(queries.list_api_keys(s, include_revoked=True)) == 1


def test_last_used_is_written_at_most_once_a_minute(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        key, raw = credentials.create_api_key(s, "gw", "sensor_gateway", "dept:BIKES", clock)
    first = clock.now()
    for step in (timedelta(seconds=0), timedelta(seconds=30), timedelta(seconds=31)):
        clock.advance(step)
        with db.unit_of_work() as s:
            principal = credentials.principal_from_api_key(s, raw, clock)
            assert principal is not None and principal.department_codes == {"BIKES"}
    with db.reader() as s:
        assert queries.api_key_by_prefix(s, key.prefix).last_used_at == first + timedelta(  # type: ignore[union-attr]
            seconds=61
        )


@pytest.mark.parametrize("raw", ["", "garbage", "og_0123456789_" + "x" * 43])
def test_wrong_keys_give_no_principal(db: Database, clock: FixedClock, raw: str) -> None:
    with db.unit_of_work() as s:
        _, real = credentials.create_api_key(s, "gw", "open311_client", "city", clock)
        assert credentials.principal_from_api_key(s, raw, clock) is None
        # Right prefix, wrong secret.
        forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
        assert credentials.principal_from_api_key(s, forged, clock) is None


def test_key_roles_and_scopes_are_checked(db: Database, clock: FixedClock) -> None:
    for role, scope, field, rule in [
        ("city_admin", "city", "role", "not_for_keys"),
        ("citizen", "city", "role", "not_for_keys"),
        ("robot", "city", "role", "known_role"),
        ("open311_client", "dept:", "scope", "code_format"),
    ]:
        with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
            credentials.create_api_key(s, "k", role, scope, clock)
        assert (exc.value.problems[0].field, exc.value.problems[0].rule) == (field, rule)
    with pytest.raises(InvalidInput) as exc, db.unit_of_work() as s:
        credentials.create_api_key(s, " ", "open311_client", "city", clock)
    assert exc.value.problems[0].field == "name"


def test_only_admins_in_scope_create_or_revoke_keys(db: Database, clock: FixedClock) -> None:
    admin = Principal(
        1, "a", PrincipalKind.USER, (Grant(Role.DISTRICT_ADMIN, Scope.area("110105")),)
    )
    with db.unit_of_work() as s:
        key, _ = credentials.create_api_key(s, "gw", "sensor_gateway", "110105001", clock, by=admin)
        assert key.created_by == "user:1"
        city_key, _ = credentials.create_api_key(s, "city", "open311_client", "city", clock)
    with pytest.raises(PermissionDenied), db.unit_of_work() as s:
        credentials.create_api_key(s, "gw", "sensor_gateway", "city", clock, by=admin)
    with pytest.raises(PermissionDenied), db.unit_of_work() as s:
        credentials.revoke_api_key(s, city_key.prefix, clock, by=admin)
    with db.unit_of_work() as s:
        credentials.revoke_api_key(s, key.prefix, clock, by=admin)
    with pytest.raises(NotFound), db.unit_of_work() as s:
        credentials.revoke_api_key(s, "nope", clock)


def test_demo_builder_signatures(db: Database, clock: FixedClock) -> None:
    """The functions the demo city builder calls, with the shapes it relies on."""
    with db.unit_of_work() as s:
        services.create_department(s, "SAN", "环卫", clock, kind="bureau", area_code="110105")
        user = services.create_user(
            s, "demo.handler", "demo password 1", clock, department_codes=["SAN"]
        )
        services.add_grant(s, user.id, Role.DEPARTMENT_HANDLER, Scope.department("SAN"), clock)
        key, raw = credentials.create_api_key(s, "demo", Role.OPEN311_CLIENT, Scope.city(), clock)
        assert raw.startswith("og_") and key.id
