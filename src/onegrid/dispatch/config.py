"""The dispatch context's settings and rule files: hotline limits, duplicates, knowledge base.

Each is data a city replaces (``ONEGRID_DISPATCH_HOTLINE_FILE``, ``…_DUPLICATES_FILE``,
``…_KNOWLEDGE_BASE_FILE``); the defaults ship in ``dispatch/data``. Rule files are read once
per process and kept.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from onegrid.core.yamlfile import read_yaml
from onegrid.dispatch.duplicates.domain import DuplicateRules
from onegrid.dispatch.hotline.domain import HotlineRules

DATA = Path(__file__).resolve().parent / "data"


class DispatchSettings(BaseSettings):
    """``ONEGRID_DISPATCH_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="ONEGRID_DISPATCH_", extra="ignore", frozen=True)

    hotline_file: Path = DATA / "hotline.yaml"
    duplicates_file: Path = DATA / "duplicates.yaml"
    knowledge_base_file: Path = DATA / "knowledge_base.yaml"
    classifier_name: str = "default"


@lru_cache(maxsize=1)
def dispatch_settings() -> DispatchSettings:
    return DispatchSettings()


@lru_cache(maxsize=4)
def hotline_rules(path: Path | None = None) -> HotlineRules:
    return HotlineRules.from_dict(read_yaml(path or dispatch_settings().hotline_file))


@lru_cache(maxsize=4)
def duplicate_rules(path: Path | None = None) -> DuplicateRules:
    return DuplicateRules.from_dict(read_yaml(path or dispatch_settings().duplicates_file))
