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


def test_open311_jurisdictions_read_as_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ONEGRID_OPEN311_JURISDICTIONS", '{"core.gov.cn": "110101", "suburb.gov.cn": "110112"}'
    )
    assert load_settings().open311_jurisdictions == (
        ("core.gov.cn", "110101"),
        ("suburb.gov.cn", "110112"),
    )
    monkeypatch.delenv("ONEGRID_OPEN311_JURISDICTIONS")
    assert load_settings().open311_jurisdictions == ()


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ('{"core gov": "110101"}', "letters, digits"),
        ('{"core.gov.cn": "11010x"}', "1 to 12 digits"),
        ('{"core.gov.cn": ""}', "1 to 12 digits"),
        ('["core.gov.cn"]', "ONEGRID_OPEN311_JURISDICTIONS"),
    ],
)
def test_a_bad_open311_jurisdiction_is_named(
    monkeypatch: pytest.MonkeyPatch, value: str, rule: str
) -> None:
    monkeypatch.setenv("ONEGRID_OPEN311_JURISDICTIONS", value)
    with pytest.raises(SettingsError, match=r"ONEGRID_OPEN311_JURISDICTIONS") as exc:
        load_settings()
    assert rule in str(exc.value)
