"""Test cities' areas, given as (code, parent code, shape) per level, imported the way an admin
imports them: through a GeoJSON file and the grid's import service."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import shapely
from sqlalchemy.orm import Session

from onegrid.core.clock import Clock
from onegrid.grid import services as grid
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features

Layout = Iterable[tuple[str, str | None, shapely.Geometry]]


def import_layout(
    session: Session,
    clock: Clock,
    path: Path,
    level: str,
    areas: Layout,
    valid_from: date,
) -> None:
    """Write ``areas`` of one ``level`` to ``path`` and import them, valid from ``valid_from``."""
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "parent": parent, "name": f"区域{code}"},
            "geometry": shapely.geometry.mapping(shape),
        }
        for code, parent, shape in areas
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    options = AreaImportOptions(
        level=Level(level),
        code_field="code",
        valid_from=valid_from,
        name_field="name",
        parent_field="parent" if level != "city" else None,
    )
    grid.import_areas(session, read_features(path), options, clock)
