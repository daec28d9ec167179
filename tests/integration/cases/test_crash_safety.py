"""Killing the server mid-load loses no acknowledged case.

A real uvicorn serves the app on a SQLite file; eight threads post reports; the server is killed
with SIGKILL while requests are in flight, then started again on the same file. Every case that
got a 201 must be there, with its history.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from onegrid.cases.history import HISTORY
from onegrid.cases.records import CASES
from onegrid.core.clock import SystemClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.schema import migrate
from tests.integration.cases.city import IN_CORE, build_city

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ONEGRID_DATA_DIR": str(data_dir),
        "ONEGRID_DATABASE_URL": "",
        "ONEGRID_CASES_SCHEDULER_ENABLED": "false",
        "ONEGRID_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "onegrid.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Importing the app takes over a minute on a 2-core machine under a load of 15.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("the server did not start")


def test_sigkill_mid_load_loses_no_acknowledged_case(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'onegrid.sqlite3'}"))
    migrate(db.engine)
    with db.unit_of_work() as s:
        build_city(s, SystemClock(), tmp_path)
    db.engine.dispose()
    port = _free_port()
    server = _serve(tmp_path, port)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def post_until_stopped(worker: int) -> None:
        # A generous timeout: on a loaded machine a request may wait seconds, and a client that
        # gives up early ends the load before the kill.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for i in range(2000):  # bounded, whatever happens
                if stop.is_set():
                    return
                body = {
                    "category_code": "E0102",
                    "channel": "web_app",
                    "description": f"load {worker}-{i}",
                    "lon": IN_CORE[0],
                    "lat": IN_CORE[1],
                }
                try:
                    resp = client.post("/api/v1/cases", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if resp.status_code == 201:
                    with lock:
                        acknowledged.append(resp.json()["number"])

    threads = [threading.Thread(target=post_until_stopped, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    while len(acknowledged) < 200 and all(t.is_alive() for t in threads):
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)  # while the eight clients are still posting
    server.wait(timeout=30)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= 200

    server = _serve(tmp_path, port)  # starts again on the same file after the kill
    try:
        db = Database(make_engine(f"sqlite:///{tmp_path / 'onegrid.sqlite3'}"))
        with db.reader() as s:
            stored = set(s.scalars(select(CASES.c.number)))
            with_history = set(
                s.scalars(select(CASES.c.number).join(HISTORY, HISTORY.c.case_id == CASES.c.id))
            )
        db.engine.dispose()
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged case(s) lost"
        assert set(acknowledged) <= with_history
        resp = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/cases",
            json={
                "category_code": "E0102",
                "channel": "web_app",
                "description": "after restart",
                "lon": IN_CORE[0],
                "lat": IN_CORE[1],
            },
            # The first request after a start builds the locator and reads the taxonomy:
            # seconds on a loaded machine.
            timeout=60,
        )
        assert resp.status_code == 201
        assert resp.json()["number"] not in stored  # numbering carries on without reuse
    finally:
        server.terminate()
        server.wait(timeout=30)
