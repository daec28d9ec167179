"""Structured logs: one JSON object a line when ``ONEGRID_LOG_FORMAT=json``, readable text by
default; the level, the time and every bound field travel with the event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from onegrid.core.logging import configure_logging, get_logger
from onegrid.core.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.contextvars.clear_contextvars()
    configure_logging()


def test_json_format_writes_one_object_a_line_with_the_bound_fields(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONEGRID_LOG_FORMAT", "json")
    monkeypatch.setenv("ONEGRID_LOG_LEVEL", "INFO")
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    structlog.contextvars.bind_contextvars(request_id="r-42")
    log = get_logger("onegrid.test").bind(case_id=7)
    log.info("case_dispatched", department="SZJ", late=False)
    log.debug("not_at_info")
    log.warning("locator_rebuilt", grids=5704)

    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 2, out.err  # the debug line is filtered out at INFO
    first, second = (json.loads(line) for line in lines)
    assert first["event"] == "case_dispatched"
    assert first["level"] == "info"
    assert (first["case_id"], first["department"], first["late"]) == (7, "SZJ", False)
    assert first["request_id"] == "r-42"  # from the context, e.g. the request being served
    stamp = datetime.fromisoformat(first["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    assert (second["event"], second["level"], second["grids"]) == (
        "locator_rebuilt",
        "warning",
        5704,
    )


def test_console_format_is_readable_text_not_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ONEGRID_LOG_FORMAT", raising=False)
    settings = load_settings()
    assert settings.log_format == "console"
    configure_logging(settings.log_level, settings.log_format)
    get_logger("onegrid.test").bind(case_id=7).info("case_dispatched", department="SZJ")

    line = capsys.readouterr().err.strip()
    assert "case_dispatched" in line and "case_id=7" in line and "department=SZJ" in line
    assert "info" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_an_unknown_log_format_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match=r"ONEGRID_LOG_FORMAT: .*'console' or 'json'"):
        load_settings()


def test_the_app_factory_sets_the_logs_up_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """uvicorn's ``--factory`` calls ``create_app()`` with no CLI around it."""
    from onegrid.api.app import create_app
    from onegrid.core.settings import get_settings

    monkeypatch.setenv("ONEGRID_LOG_FORMAT", "json")
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONEGRID_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        create_app()
        get_logger("onegrid.test").info("served", port=8000)
    finally:
        get_settings.cache_clear()
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert (line["event"], line["port"]) == ("served", 8000)
