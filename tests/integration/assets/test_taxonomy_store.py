"""Taxonomy versions in a real database: loading, versions kept, the newest active in use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from onegrid.assets import queries, services
from onegrid.assets.domain import Kind
from onegrid.assets.models import CategoryRow
from onegrid.assets.taxonomy import DEFAULT_TAXONOMY
from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict, InvalidInput, NotFound
from onegrid.db.session import Database


def _variant(tmp: Path, label: str, name_en: str) -> Path:
    data = yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))
    data["version"] = label
    data["components"][0]["classes"][0]["name_en"] = name_en
    path = tmp / f"taxonomy-{label}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_nothing_is_in_use_before_a_load(db: Database) -> None:
    with db.reader() as s:
        assert queries.current_version(s) is None
        assert queries.current_categories(s) == []
        with pytest.raises(NotFound):
            queries.get_category(s, "C0101")


def test_the_shipped_taxonomy_loads(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        loaded = services.load_taxonomy_file(s, DEFAULT_TAXONOMY, clock)
    assert loaded.created
    with db.reader() as s:
        version = queries.current_version(s)
        assert version is not None and version.category_count == 120
        assert version.loaded_at == clock.now()
        assert len(queries.current_categories(s)) == 120
        assert len(queries.current_categories(s, Kind.COMPONENT)) == 62
        cover = queries.get_category(s, "c0101")
        assert (cover.name_zh, cover.major_name_en) == ("上水井盖", "Public utilities")
        assert "共享单车" in cover.keywords_zh or cover.keywords_zh
        assert queries.search_categories(s, "共享单车")[0].code == "E0506"


def test_loading_the_same_taxonomy_again_changes_nothing(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        first = services.load_taxonomy_file(s, DEFAULT_TAXONOMY, clock)
        again = services.load_taxonomy_file(s, DEFAULT_TAXONOMY, clock)
    assert not again.created and again.version.id == first.version.id
    with db.reader() as s:
        assert len(queries.taxonomy_versions(s)) == 1


def test_a_new_version_is_used_and_the_old_one_kept(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        old = services.load_taxonomy_file(s, DEFAULT_TAXONOMY, clock).version
        new = services.load_taxonomy_file(s, _variant(tmp_path, "v2", "Water cover"), clock).version
    with db.reader() as s:
        assert queries.current_version(s) == new
        assert queries.get_category(s, "C0101").name_en == "Water cover"
        assert [v.id for v in queries.taxonomy_versions(s)] == [new.id, old.id]
        kept = {c.code: c for c in queries.categories_of(s, old.id)}
        assert kept["C0101"].name_en == "Water-supply manhole cover"
        assert s.scalar(select(func.count()).select_from(CategoryRow)) == 240


def test_switching_the_newest_off_goes_back(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        old = services.load_taxonomy_file(s, DEFAULT_TAXONOMY, clock).version
        new = services.load_taxonomy_file(s, _variant(tmp_path, "v2", "Water cover"), clock).version
    with db.unit_of_work() as s:
        services.set_taxonomy_active(s, new.id, False)
    with db.reader() as s:
        assert queries.current_version(s) == old
        assert queries.get_category(s, "C0101").name_en == "Water-supply manhole cover"
    with db.unit_of_work() as s, pytest.raises(Conflict):
        services.set_taxonomy_active(s, old.id, False)


def test_a_bad_file_stores_nothing(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nversion: '1'\ncomponents:\n  - major: '1'\n    name_zh: a\n    name_en: b\n"
        "    classes: [{minor: '01', name_zh: c, name_en: d}]\n",
        encoding="utf-8",
    )
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as exc:
        services.load_taxonomy_file(s, bad, clock)
    problem = exc.value.problems[0]
    assert (problem.field, problem.rule) == ("components[0].major", "two_digits")
    with db.reader() as s:
        assert queries.current_version(s) is None


def test_an_unknown_code_is_named(db: Database, clock: FixedClock) -> None:
    with db.unit_of_work() as s:
        services.ensure_taxonomy(s, clock)
    with db.reader() as s, pytest.raises(NotFound) as exc:
        queries.get_category(s, "C9999")
    assert "C9999" in exc.value.message
