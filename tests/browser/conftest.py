"""The browser tests' world: a fresh SQLite city, a real uvicorn server, Debian's Chromium.

Chromium is the system's (``apt-get install -y chromium``); Playwright never downloads one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from onegrid.core.clock import SystemClock
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.schema import migrate
from onegrid.web.settings import BUILT
from tests.browser.city import PASSWORD, build_browser_city
from tests.support import REPO, free_port, need, wait_ready

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = REPO / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots"


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path


def bearer(server: Server, username: str) -> dict[str, str]:
    """The Authorization header of one of the browser city's users (all share ``PASSWORD``)."""
    r = httpx.post(
        f"{server.url}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def post_case(
    server: Server,
    who: dict[str, str],
    *,
    category: str,
    channel: str,
    description: str,
    lat: float,
    lon: float,
) -> Any:
    """A case reported through the API (not the page): the created case's JSON."""
    r = httpx.post(
        f"{server.url}/api/v1/cases",
        headers=who,
        json={
            "category_code": category,
            "channel": channel,
            "description": description,
            "lon": lon,
            "lat": lat,
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve_city(tmp_path_factory.mktemp("web-city")) as server:
        yield server


@contextmanager
def serve_city(data: Path) -> Iterator[Server]:
    """A fresh browser city in ``data`` and a uvicorn server over it, stopped on exit (a test
    that changes the grid itself gets its own, so the shared city stays as the others expect)."""
    need(
        (BUILT / "index.html").is_file(),
        "the built web front end",
        "install Node.js 20+ and run `make web` (src/onegrid/web/static/dist/ is missing)",
    )
    db = Database(make_engine(f"sqlite:///{(data / 'onegrid.sqlite3').as_posix()}"))
    migrate(db.engine)
    with db.unit_of_work() as session:
        build_browser_city(session, SystemClock(), data)
    db.engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "ONEGRID_DATA_DIR": str(data),
        "ONEGRID_DATABASE_URL": "",
        "ONEGRID_LOG_LEVEL": "WARNING",
        "ONEGRID_WEB_FEED_INTERVAL_SECONDS": "0.5",
    }
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "onegrid.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "3",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, data / "server.log", "the server")
        yield Server(url, data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need(
        CHROMIUM.exists(),
        "Chromium",
        "install Debian's browser with `apt-get install -y chromium` (/usr/bin/chromium); "
        "Playwright uses it and never downloads one",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
