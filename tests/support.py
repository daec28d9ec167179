"""What tests share: service checks that skip on a laptop and fail in CI, and data paths."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from onegrid.core.errors import InvalidInput

REPO = Path(__file__).resolve().parents[1]


def services_required() -> bool:
    return os.environ.get("ONEGRID_REQUIRE_SERVICES", "") in ("1", "true", "yes")


def need(condition: bool, what: str, how: str) -> None:
    """Skip with a message saying what to start, or fail when services are required."""
    if condition:
        return
    message = f"{what} is not available: {how}"
    if services_required():
        pytest.fail(message + " (ONEGRID_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def shared_data_dir() -> Path:
    env = os.environ.get("ONEGRID_SHARED_DATA")
    return Path(env) if env else (REPO.parent / "shared" / "data")


def shared_file(name: str) -> Path:
    path = shared_data_dir() / name
    need(path.exists(), f"shared data file {name}", f"set ONEGRID_SHARED_DATA (looked in {path})")
    return path


def assert_yaml_refused(
    read: Callable[[Path], object], path: Path, text: str | None, field: str, rule: str, says: str
) -> None:
    """``read`` refuses the YAML file ``path`` holding ``text`` (no file when None) with one
    problem on ``field`` under ``rule`` whose message names the file and says ``says``."""
    if text is not None:
        path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        read(path)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == (field, rule)
    assert str(path) in problem.message and says in problem.message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    """Poll ``url``'s /readyz until 200; fail with the server's log if it exits or takes more
    than 120 s."""
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not ready within 120 s:\n{log.read_text()}")
        time.sleep(0.2)
