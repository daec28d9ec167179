"""The lockout over HTTP follows ``settings.auth``, timed by the injected clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.core.settings import AuthSettings, Settings
from tests.api.people.conftest import PASSWORD, MakeUser

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, auth=AuthSettings(lockout_failures=2, lockout_minutes=3))


def _try(client: TestClient, password: str) -> int:
    return client.post(TOKEN, data={"username": "wang.li", "password": password}).status_code


def test_two_failures_lock_for_three_minutes(
    client: TestClient, make_user: MakeUser, clock: FixedClock
) -> None:
    make_user("wang.li")
    assert _try(client, "x" * 12) == 401
    clock.advance(timedelta(minutes=1))
    assert _try(client, "x" * 12) == 401
    locked = client.post(TOKEN, data={"username": "wang.li", "password": PASSWORD})
    assert locked.status_code == 401 and locked.json()["type"].endswith("/sign-in-locked")
    assert "01:04:00" in locked.json()["detail"]  # three minutes after the second failure
    clock.advance(timedelta(minutes=2, seconds=59))
    assert _try(client, PASSWORD) == 401  # the first failure is long gone; still locked
    clock.advance(timedelta(seconds=1))
    assert _try(client, PASSWORD) == 200


def test_the_web_sign_in_honours_the_same_lockout(client: TestClient, make_user: MakeUser) -> None:
    make_user("wang.li")
    for _ in range(2):
        client.post("/api/v1/web/session", data={"username": "wang.li", "password": "x" * 12})
    assert _try(client, PASSWORD) == 401
