"""``onegrid migrate`` and ``onegrid run`` as an operator starts them: the installed console
script in a subprocess over an empty data directory, then a second start over the same one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from onegrid.schema import alembic_config
from tests.support import free_port, need, wait_ready

ONEGRID = Path(sys.executable).parent / "onegrid"
PASSWORD_LINE = re.compile(r"password of every demo user: (\S+)")


def _env(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ONEGRID_DATA_DIR": str(data),
        "ONEGRID_DATABASE_URL": "",
        "ONEGRID_LOG_LEVEL": "WARNING",
        # The two years of history would load beside the server for a minute; its own tests
        # load a few days of it (tests/integration/demo/test_demo_history_load.py).
        "ONEGRID_DEMO_HISTORY": "false",
        "COLUMNS": "200",  # rich wraps at 80 columns when stdout is no terminal
    }


def _script() -> Path:
    need(ONEGRID.is_file(), "the onegrid console script", f"pip install -e . (no {ONEGRID})")
    return ONEGRID


@contextmanager
def _running(data: Path, log: Path) -> Iterator[str]:
    """``onegrid run`` over ``data`` until /readyz answers 200; terminated on exit."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(_script()), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=_env(data),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, log, "onegrid run")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _districts(url: str) -> list[str]:
    r = httpx.get(url + "/api/v1/areas.geojson", params={"level": "district"}, timeout=30)
    assert r.status_code == 200, r.text
    return sorted(f["properties"]["code"] for f in r.json()["features"])


def _signs_in(url: str, password: str) -> bool:
    r = httpx.post(
        url + "/api/v1/auth/token", data={"username": "admin", "password": password}, timeout=30
    )
    return r.status_code == 200 and bool(r.json().get("access_token"))


def test_migrate_creates_the_schema_in_an_empty_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run(
        [str(_script()), "migrate"],
        env=_env(data),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "migrated sqlite:///" in done.stdout
    db_file = data / "onegrid.sqlite3"
    assert db_file.is_file()
    url = f"sqlite:///{db_file.as_posix()}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    # Every context's branch is at its head, and no demo was loaded by a bare migrate.
    assert versions == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    assert {"areas", "unit_grids", "users", "components"} <= tables
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM areas")).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.slow
def test_run_loads_the_demo_once_and_serves_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    first_log = tmp_path / "first.log"
    with _running(data, first_log) as url:
        districts = _districts(url)
        first = first_log.read_text()
        assert "empty database: building the demo city" in first
        found = PASSWORD_LINE.search(first)
        assert found, first
        password = found.group(1)
        assert districts, "the demo city has districts"
        assert f"districts: {len(districts)}\n" in first
        assert _signs_in(url, password), "the printed password signs the demo admin in"
        assert not _signs_in(url, password + "x")
        # The analytics lake is built beside the first start, not 15 minutes later.
        deadline = time.monotonic() + 120
        while not (data / "lake" / "CURRENT").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert (data / "lake" / "CURRENT").exists()
        assert "analytics lake built: " in first_log.read_text()
        assert "demo history" not in first_log.read_text()  # ONEGRID_DEMO_HISTORY=false

    second_log = tmp_path / "second.log"
    with _running(data, second_log) as url:
        assert _districts(url) == districts
        second = second_log.read_text()
        # Not rebuilt: nothing announced, no new password, and the first one still works.
        assert "building the demo city" not in second
        assert "password" not in second
        assert "OneGrid serving on http://127.0.0.1:" in second
        assert _signs_in(url, password)
