"""The analytics context's settings, read from ``ONEGRID_ANALYTICS_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA = Path(__file__).resolve().parent / "data"


class AnalyticsSettings(BaseSettings):
    """How often the server refreshes the lake, and the evaluation files a city configures."""

    model_config = SettingsConfigDict(env_prefix="ONEGRID_ANALYTICS_", extra="ignore", frozen=True)

    refresh_enabled: bool = Field(
        default=True, description="Run the incremental lake refresh inside the server."
    )
    refresh_interval_seconds: float = Field(
        default=900.0,
        gt=0,
        description="Seconds between two refreshes (one with nothing new takes well under 1 s).",
    )
    # Read at each use (small files), so an edited file holds from the next request; a file
    # that breaks a rule is refused then, naming the file and the rule.
    ranking_file: Path = Field(
        default=DATA / "ranking.yaml",
        description="The monthly ranking's versioned weights, bands and targets.",
    )
    composite_file: Path = Field(
        default=DATA / "department_composite.yaml",
        description="The department composite score's versioned indicator points and bands.",
    )


def analytics_settings() -> AnalyticsSettings:
    # Read at each server start, not cached: tests and restarts see the current environment.
    return AnalyticsSettings()
