"""The whole schema: every context's tables and migrations, applied and checked as one."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from onegrid.db.base import Base

_PKG = Path(__file__).resolve().parent


def _contexts() -> tuple[str, ...]:
    """Contexts that own tables: each has ``models.py`` and its own Alembic branch in
    ``migrations/``, labelled with its name, so contexts evolve their tables independently."""
    return tuple(
        sorted(
            d.name
            for d in _PKG.iterdir()
            if (d / "models.py").is_file() and (d / "migrations").is_dir()
        )
    )


CONTEXTS = _contexts()


def load_all_models() -> MetaData:
    for ctx in CONTEXTS:
        importlib.import_module(f"onegrid.{ctx}.models")
    return Base.metadata


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_PKG / "db" / "migrations"))
    locations = [str(_PKG / ctx / "migrations") for ctx in CONTEXTS]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the newest revision of every context (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def drift(engine: Engine) -> list[object]:
    """Differences between the tables the models declare and what migrations built."""
    metadata = load_all_models()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, metadata))
