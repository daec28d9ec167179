"""The analytics context's settings, read from ``ONEGRID_ANALYTICS_*`` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    """How often the server refreshes the lake."""

    model_config = SettingsConfigDict(env_prefix="ONEGRID_ANALYTICS_", extra="ignore", frozen=True)

    refresh_enabled: bool = Field(
        default=True, description="Run the incremental lake refresh inside the server."
    )
    refresh_interval_seconds: float = Field(
        default=900.0,
        gt=0,
        description="Seconds between two refreshes (one with nothing new takes well under 1 s).",
    )


def analytics_settings() -> AnalyticsSettings:
    # Read at each server start, not cached: tests and restarts see the current environment.
    return AnalyticsSettings()
