"""A request's transaction commits before its response leaves: a client that sees 201 and asks
again reads what it wrote, and a commit that fails is answered as a failure, not as a 201."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from onegrid.api.deps import DbSession


class _Recorder:
    """Stands in for ``Database``: its unit of work notes when it commits, or fails to."""

    def __init__(self, events: list[str], *, fail: bool = False) -> None:
        self.events = events
        self.fail = fail

    @contextmanager
    def unit_of_work(self) -> Iterator[Any]:
        yield object()
        if self.fail:
            self.events.append("commit failed")
            raise RuntimeError("disk full")
        self.events.append("committed")


def _app(events: list[str], *, fail: bool = False) -> Any:
    app = FastAPI()
    app.state.db = _Recorder(events, fail=fail)

    @app.post("/things", status_code=201)
    def create(db: DbSession) -> dict[str, bool]:
        return {"ok": True}

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                events.append(f"response {message['status']}")
            await send(message)

        await app(scope, receive, noting)

    return asgi


def test_the_commit_comes_before_the_response() -> None:
    events: list[str] = []
    with TestClient(_app(events)) as client:
        assert client.post("/things").status_code == 201
    assert events == ["committed", "response 201"]


def test_a_failed_commit_is_not_answered_with_success() -> None:
    events: list[str] = []
    with TestClient(_app(events, fail=True), raise_server_exceptions=False) as client:
        status = client.post("/things").status_code
    assert status == 500
    assert events == ["commit failed", "response 500"]
