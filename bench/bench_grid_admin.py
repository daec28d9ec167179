"""The admin's area import over HTTP: what the endpoint adds to the grid service it calls.

Run: ``python bench/bench_grid_admin.py`` (SQLite in a temporary directory, the real NYC
community-district file from ``../shared/data`` or ``$ONEGRID_SHARED_DATA``; under a minute).
Each figure is printed beside the raw limit measured in the same run, and their ratio:
- a dry run over HTTP (upload, read, check, plan, permission check, plan with map shapes)
  vs the service's own plan of the same file read from disk (``plan_area_import``);
- applying it over HTTP (the same, plus the versioned write) vs the service's import.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import shapely
from _common import DATA, timed
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from onegrid.api.app import create_app
from onegrid.core.clock import FixedClock
from onegrid.core.settings import Settings
from onegrid.db.engine import make_engine
from onegrid.db.session import Database
from onegrid.grid import services
from onegrid.grid.domain import Level
from onegrid.grid.importing.areas import AreaImportOptions
from onegrid.grid.importing.reading import read_features
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from onegrid.people.passwords import use_hasher
from onegrid.schema import migrate

FILE = DATA / "nyc_community_districts.geojson"
START = date(2026, 1, 1)
PASSWORD = "bench-admin-password"


def show(name: str, ours: float, limit: float, limit_name: str) -> None:
    print(
        f"{name:<30} {ours * 1000:>9.1f} ms   raw limit ({limit_name}) {limit * 1000:>9.1f} ms"
        f"   ratio {limit / ours:5.2f}"
    )


def _city(db: Database, clock: FixedClock) -> None:
    """A city and one district per NYC borough, whose codes the file's ``BoroCD`` start with."""
    features = read_features(FILE).features
    union = shapely.union_all([f.geometry for f in features]).buffer(0.01)
    boroughs: dict[str, list[Any]] = {}  # community district "101" → borough "1"
    for f in features:
        boroughs.setdefault(str(int(f.properties["BoroCD"]))[0], [])
    for f in features:
        boroughs[str(int(f.properties["BoroCD"]))[0]].append(f.geometry)
    with db.unit_of_work() as s:
        _import_shapes(s, clock, {"NYC": union}, Level.CITY, None)
        shapes = {b: shapely.union_all(g).buffer(0.001) for b, g in boroughs.items()}
        _import_shapes(s, clock, shapes, Level.DISTRICT, "NYC")
        use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        people.create_user(
            s, "admin", PASSWORD, clock, grants=[Grant(Role.CITY_ADMIN, Scope.city())]
        )


def _import_shapes(
    s: Session, clock: FixedClock, shapes: dict[str, Any], level: Level, parent: str | None
) -> None:
    path = Path(tempfile.mkdtemp()) / f"{level}.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": c},
                        "geometry": shapely.geometry.mapping(g),
                    }
                    for c, g in shapes.items()
                ],
            }
        )
    )
    options = AreaImportOptions(
        level=level, code_field="code", valid_from=START, parent_code=parent
    )
    services.import_areas(s, read_features(path), options, clock)


def main() -> None:
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(make_engine(f"sqlite:///{tmp}/bench.sqlite3"))
        migrate(db.engine)
        _city(db, clock)
        options = AreaImportOptions(
            level=Level.SUBDISTRICT,
            code_field="BoroCD",
            valid_from=START,
            parent_from_code_prefix=1,
            repair=True,
        )
        params = {
            "level": "subdistrict",
            "code_field": "BoroCD",
            "parent_from_code_prefix": 1,
            "repair": True,
            "valid_from": str(START),
        }
        raw = FILE.read_bytes()
        app = create_app(Settings(data_dir=Path(tmp)), db=db, clock=clock)
        with TestClient(app) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}

            def plan_service() -> None:
                with db.unit_of_work() as s:
                    services.plan_area_import(s, read_features(FILE), options)

            def plan_http() -> None:
                r = client.post(
                    "/api/v1/areas/import",
                    params={**params, "dry_run": True},
                    content=raw,
                    headers=headers,
                )
                assert r.status_code == 200, r.text

            print(f"{FILE.name}: {len(read_features(FILE).features)} features, {len(raw):,} bytes")
            show("dry run over HTTP", timed(plan_http, 5), timed(plan_service, 5), "service plan")

            def apply_service() -> None:
                with db.unit_of_work() as s:
                    services.import_areas(s, read_features(FILE), options, clock)
                    s.rollback()  # measured, not kept: the HTTP run below creates the rows

            def apply_http() -> None:
                r = client.post("/api/v1/areas/import", params=params, content=raw, headers=headers)
                assert r.status_code == 200 and r.json()["new"], r.text

            # A create happens once per file (a second import is all unchanged): one run each.
            service_apply = timed(apply_service, repeat=1)
            show("create over HTTP", timed(apply_http, repeat=1), service_apply, "service import")
        db.engine.dispose()


if __name__ == "__main__":
    main()
