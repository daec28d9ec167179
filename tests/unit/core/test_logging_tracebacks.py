"""An unhandled error's log line: a plain traceback, never the frames' local variables."""

from __future__ import annotations

import pytest

from onegrid.core.logging import configure_logging, get_logger


def _fails_holding_a_secret() -> None:
    secret_key = "s3cret-signing-key"  # what a frame's locals held: the settings' key
    raise ValueError(f"broken ({len(secret_key)})")


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_logged_exception_shows_its_traceback_but_no_local_variable(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt)
    try:
        _fails_holding_a_secret()
    except ValueError as exc:
        get_logger("test").error("unhandled", exc_info=exc)
    err = capsys.readouterr().err
    assert "Traceback" in err and "_fails_holding_a_secret" in err and "broken (18)" in err
    assert "s3cret-signing-key" not in err
