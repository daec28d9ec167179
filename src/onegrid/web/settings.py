"""The web's settings (``ONEGRID_WEB_*``): where the built front end lives, the city's basemap."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# `make web` (frontend/vite.config.ts) writes the bundle here; it is build output, git-ignored.
BUILT = Path(__file__).resolve().parent / "static" / "dist"


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEGRID_WEB_", extra="ignore", frozen=True)

    static_dir: Path = Field(default=BUILT, description="The built front end (index.html).")
    basemap_url: str = Field(
        default="",
        max_length=2000,
        description=(
            "The city's own basemap: a MapLibre style JSON URL, or a raster tile template with "
            "{z}/{x}/{y}. Empty: the map shows only the city's boundaries and grids."
        ),
    )
    basemap_attribution: str = Field(default="", max_length=500)
    feed_interval_seconds: float = Field(
        default=2.0, gt=0, le=60, description="How often the live feed looks for changed cases."
    )
    map_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=600,
        description="How long the map's open-case counts may be reused while no case changes.",
    )
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Refused in the browser before sending."
    )


@lru_cache(maxsize=1)
def web_settings() -> WebSettings:
    return WebSettings()
