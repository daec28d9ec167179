from __future__ import annotations

import pytest

from onegrid.core.settings import SettingsError, load_settings


def test_defaults_use_sqlite_under_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", "/tmp/og")
    monkeypatch.delenv("ONEGRID_DATABASE_URL", raising=False)
    assert load_settings().effective_database_url == "sqlite:////tmp/og/onegrid.sqlite3"


def test_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_PORT", "99999")
    with pytest.raises(SettingsError, match="ONEGRID_PORT"):
        load_settings()


def test_unknown_database_dialect_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match=r"ONEGRID_DATABASE_URL: .*postgresql"):
        load_settings()
