"""Access checks: policy decisions, bearer tokens and API keys resolved to principals.

Run: ``python bench/bench_access.py`` (SQLite in a temporary directory, about half a minute).
Each figure is printed beside the raw limit measured in the same run and their ratio:
- ``policy.can`` vs a bare membership test over the same grants (the least any check costs);
- token → principal vs one primary-key ``session.get`` of the session row (the least a
  server-side session costs);
- API key → principal vs one SHA-256 plus a primary-key lookup.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher

from onegrid.core.clock import SystemClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.people import credentials, services
from onegrid.people.apikeys import digest_of
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from onegrid.people.models import ApiKey, AuthSession
from onegrid.people.policy import can
from onegrid.schema import migrate

SECRET = "benchmark-secret-key-0123456789"
CHAIN = ("110000", "110105", "110105001", "110105001002", "110105001002003")


def rate(fn: Callable[[], object], seconds: float = 2.0) -> float:
    """Calls per second, measured over about ``seconds``."""
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            fn()
        n += 100
    return n / elapsed


def show(name: str, ours: float, limit: float, limit_name: str) -> None:
    print(
        f"{name:<34} {ours:>12,.0f}/s   raw limit ({limit_name}) {limit:>12,.0f}/s   "
        f"ratio {ours / limit:5.2f}"
    )


def bench_policy() -> None:
    grants = (
        Grant(Role.INSPECTOR, Scope.area("110105001")),
        Grant(Role.DEPARTMENT_HANDLER, Scope.department("SAN")),
        Grant(Role.DISPATCHER, Scope.area("110101")),
    )
    p = Principal(1, "x", PrincipalKind.USER, grants)
    codes = tuple(g.scope.code for g in grants)

    def ours() -> bool:
        return can(p, "case.dispatch", area_chain=CHAIN, department_code="ROADS")

    def limit() -> bool:
        return any(c in CHAIN for c in codes)

    show("policy.can (3 grants, denied)", rate(ours), rate(limit), "membership test")


def bench_credentials(db: Database) -> None:
    clock = SystemClock()
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with db.unit_of_work() as s:
        services.create_department(s, "SAN", "环卫", clock)
        services.create_user(
            s,
            "bench",
            "benchmark password",
            clock,
            hasher=cheap,
            grants=[
                Grant(Role.DISPATCHER, Scope.area("110105")),
                Grant(Role.DEPARTMENT_HANDLER, Scope.department("SAN")),
            ],
        )
        _, raw_key = credentials.create_api_key(s, "bench", "open311_client", "city", clock)
    issued = credentials.sign_in(
        db,
        "bench",
        "benchmark password",
        clock,
        secret_key=SECRET,
        ttl=timedelta(hours=1),
        hasher=cheap,
    )
    with db.reader() as s:

        def token() -> object:
            return credentials.principal_from_token(s, issued.access_token, clock, SECRET)

        def session_row() -> object:
            s.expire_all()
            return s.get(AuthSession, issued.session_id)

        key_id = credentials.principal_from_api_key(s, raw_key, clock).subject_id  # type: ignore[union-attr]

        def api_key() -> object:
            s.expire_all()
            return credentials.principal_from_api_key(s, raw_key, clock)

        def key_row() -> object:
            s.expire_all()
            digest_of(raw_key)
            return s.get(ApiKey, key_id)

        def token_fresh() -> object:
            s.expire_all()
            return token()

        show("bearer token → principal", rate(token_fresh), rate(session_row), "1 PK lookup")
        show("API key → principal", rate(api_key), rate(key_row), "SHA-256 + 1 PK lookup")


def main() -> None:
    bench_policy()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
        migrate(db.engine)
        bench_credentials(db)
        db.engine.dispose()


if __name__ == "__main__":
    main()
