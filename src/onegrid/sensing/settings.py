"""The sensing context's settings, read from ``ONEGRID_SENSING_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA = Path(__file__).resolve().parent / "data"


class SensingSettings(BaseSettings):
    """Broker, batching, validation limits, rule files, the lake and the bike watch."""

    model_config = SettingsConfigDict(env_prefix="ONEGRID_SENSING_", extra="ignore", frozen=True)

    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="The broker: mqtt://[user:password@]host[:port] (mqtts:// for TLS).",
    )
    mqtt_client_id: str = Field(
        default="onegrid-ingester",
        min_length=1,
        max_length=64,
        description="Fixed, so the broker keeps the session (and queued readings) across restarts.",
    )
    topic_prefix: str = Field(default="onegrid/v1", min_length=1)
    session_expiry_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="How long the broker keeps the ingester's session while it is away.",
    )
    # Reached only with a backlog (100 ms at 25,000 readings/s is 2,500): then a bigger batch
    # spreads the cost of a commit further (20,000 rows: +15–30 % over 5,000 on a quiet machine).
    batch_max_rows: int = Field(default=20_000, ge=1)
    batch_max_ms: int = Field(default=100, ge=1)
    future_tolerance_s: int = Field(
        default=300, ge=0, description="Readings stamped further ahead of the clock are refused."
    )
    rules_file: Path = DATA / "rules.yaml"
    device_kinds_file: Path = DATA / "device_kinds.yaml"
    registry_refresh_s: float = Field(default=5.0, gt=0)
    silence_check_s: float = Field(default=30.0, gt=0)
    lake_dir: Path | None = Field(
        default=None, description="Root of the Parquet lake; default <data_dir>/lake."
    )
    keep_days: int = Field(
        default=30, ge=1, description="Readings older than this are rolled into the lake."
    )
    roll_enabled: bool = Field(
        default=True,
        description="Roll older readings into the lake inside the server (embedded SQLite only).",
    )
    roll_interval_s: float = Field(
        default=3600.0,
        ge=60,
        le=7 * 86400,
        description="Seconds between two scheduled rolls (the lake takes whole days; a roll with "
        "nothing to move only reads).",
    )
    api_key: str = Field(
        default="",
        description="A sensor_gateway API key the MQTT ingester opens cases with (for the audit "
        "trail); empty: a built-in system principal.",
    )
    bike_cell_capacity: int = Field(
        default=30, ge=0, description="Bikes an H3 res-10 cell holds when no area is configured."
    )
    bike_grace_s: int = Field(
        default=30 * 60, ge=0, description="How long an area may stay over capacity."
    )
    bike_interval_s: float = Field(default=60.0, gt=0, description="How often feeds are read.")
    http_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
        return value

    def lake_root(self, data_dir: Path) -> Path:
        return self.lake_dir if self.lake_dir is not None else data_dir / "lake"


@lru_cache(maxsize=1)
def sensing_settings() -> SensingSettings:
    return SensingSettings()
