"""A component's history over HTTP: what changed, who did it, and only within one's area."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from onegrid.people.domain import Grant, Role, Scope
from tests.api.assets.conftest import Headers
from tests.integration.assets.city import IN_WEST

COVER = {"class_code": "C0101", "name": "上水井盖", "lon": IN_WEST[0], "lat": IN_WEST[1]}


def test_history_lists_every_change_oldest_first(
    client: TestClient, admin: Headers, clock: FixedClock, sign_in: Callable[..., Headers]
) -> None:
    created = client.post("/api/v1/components", json={**COVER, "owner": "water"}, headers=admin)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    clock.advance(timedelta(minutes=5))
    client.patch(f"/api/v1/components/{cid}", json={"note": "lid cracked"}, headers=admin)
    client.post(f"/api/v1/components/{cid}/state", json={"state": "damaged"}, headers=admin)

    resp = client.get(f"/api/v1/components/{cid}/history", headers=admin)
    assert resp.status_code == 200, resp.text
    entries = resp.json()
    me = client.get("/api/v1/me", headers=admin).json()
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("created", f"user:{me['id']}"),
        ("updated", f"user:{me['id']}"),
        ("state_changed", f"user:{me['id']}"),
    ]
    assert entries[0]["changes"]["owner"] == [None, "water"]
    assert entries[1]["changes"] == {"note": [None, "lid cracked"]}
    assert entries[1]["at"].startswith("2026-03-02T01:05:00")
    assert entries[2]["changes"] == {"state": ["normal", "damaged"]}

    # Out of the reader's area, the component and its history do not exist.
    inspector = sign_in("insp", Grant(Role.INSPECTOR, Scope.area("110102")))
    assert client.get(f"/api/v1/components/{cid}/history", headers=inspector).status_code == 404
    assert client.get(f"/api/v1/components/{cid}/history").status_code == 401
    missing = client.get("/api/v1/components/1101010101999999/history", headers=admin)
    assert missing.status_code == 404
