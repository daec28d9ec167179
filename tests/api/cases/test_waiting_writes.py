"""Creates waiting for SQLite's writer hold no thread of the pool: reads go on beside them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from onegrid.db.writer import _SQLITE_WRITER
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import body, create

# More than the 40 threads of the pool that runs the sync endpoints.
WAITING = 48


def test_a_read_is_served_while_many_creates_wait_for_the_writer(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    if client.app.state.db.dialect != "sqlite":  # type: ignore[attr-defined]
        pytest.skip("only SQLite's writes wait for one another in the process")
    first = create(client, as_["insp"])
    app: Any = client.app

    async def scenario() -> tuple[int, list[int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            creates = [
                asyncio.create_task(
                    http.post(
                        "/api/v1/cases", json=body(description=f"第 {i} 处"), headers=as_["insp"]
                    )
                )
                for i in range(WAITING)
            ]
            await asyncio.sleep(0.5)  # every create is in and waits for the writer
            assert not any(t.done() for t in creates)
            read = await asyncio.wait_for(
                http.get(f"/api/v1/cases/{first['id']}", headers=as_["insp"]), timeout=20
            )
            _SQLITE_WRITER.release()
            try:
                done = await asyncio.wait_for(asyncio.gather(*creates), timeout=60)
            finally:
                _SQLITE_WRITER.acquire()
            return read.status_code, [r.status_code for r in done]

    with _SQLITE_WRITER:
        read, created = asyncio.run(scenario())
    assert read == 200
    assert created == [201] * WAITING
