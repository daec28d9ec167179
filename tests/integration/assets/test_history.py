"""Component history: every change appended, and the database refuses to rewrite or erase it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from onegrid.assets import queries, services
from onegrid.assets.domain import ComponentChange, ComponentDraft, ComponentState
from onegrid.assets.importing import ComponentImportOptions, OnError, import_component_records
from onegrid.assets.models import ComponentHistoryRow
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.people.domain import Grant, Principal, PrincipalKind, Role, Scope
from tests.integration.assets.city import IN_EAST, IN_WEST

COVER = ComponentDraft(
    class_code="C0101", name="上水井盖", lon=IN_WEST[0], lat=IN_WEST[1], owner="water"
)
ADMIN = Principal(
    subject_id=7,
    name="boss",
    kind=PrincipalKind.USER,
    grants=(Grant(Role.CITY_ADMIN, Scope.city()),),
)


def _history(db: Database, cid: str) -> list[queries.HistoryEntry]:
    with db.reader() as s:
        return queries.component_history(s, cid)


def test_every_change_is_appended_with_who_when_and_what(city: Database, clock: FixedClock) -> None:
    with city.unit_of_work() as s:
        cid = services.create_component(s, COVER, clock, by=ADMIN).id
    created_at = clock.now()
    clock.advance(timedelta(hours=1))
    with city.unit_of_work() as s:
        services.update_component(
            s, cid, ComponentChange({"name": "新名字", "lon": 116.301, "lat": 39.919}), clock
        )
        services.update_component(s, cid, ComponentChange({"name": "新名字"}), clock)  # no-op
    clock.advance(timedelta(hours=1))
    with city.unit_of_work() as s:
        services.change_component_state(s, cid, ComponentState.DAMAGED, clock, by=ADMIN)
        services.retire_component(s, cid, clock, by=ADMIN)

    created, renamed, damaged, retired = _history(city, cid)
    assert (created.at, created.actor, created.action) == (created_at, "user:7", "created")
    assert created.changes["name"] == [None, "上水井盖"]
    assert created.changes["state"] == [None, "normal"]
    assert "maintainer" not in created.changes  # only what has a value
    assert (renamed.actor, renamed.action) == ("console", "updated")
    assert renamed.at == created_at + timedelta(hours=1)
    assert renamed.changes["name"] == ["上水井盖", "新名字"]
    assert renamed.changes["lon"] == [IN_WEST[0], 116.301]
    assert set(renamed.changes) == {"name", "lon", "lat"}  # the same unit grid and community
    assert (damaged.action, damaged.changes) == ("state_changed", {"state": ["normal", "damaged"]})
    assert (retired.action, retired.changes) == ("retired", {"state": ["damaged", "removed"]})


def test_a_refused_change_leaves_no_history(city: Database, clock: FixedClock) -> None:
    with city.unit_of_work() as s:
        cid = services.create_component(s, COVER, clock).id
    with city.unit_of_work() as s, pytest.raises(InvalidInput):
        move = ComponentChange({"name": "x", "lon": IN_EAST[0], "lat": IN_EAST[1]})
        services.update_component(s, cid, move, clock)
    assert [e.action for e in _history(city, cid)] == ["created"]


def test_an_import_is_one_history_row(city: Database, clock: FixedClock) -> None:
    records = [
        {"class_code": "C0101", "lon": IN_WEST[0], "lat": IN_WEST[1], "owner": "water"},
        {"class_code": "C0101", "lon": IN_WEST[0] + 0.001, "lat": IN_WEST[1], "owner": "water"},
        {"class_code": "C0101", "lon": 200.0, "lat": IN_WEST[1], "owner": "water"},
    ]
    options = ComponentImportOptions(on_error=OnError.SKIP, data_source="survey 2026")
    report = import_component_records(city, records, clock, options)
    assert report.written == 2
    refused = import_component_records(city, records, clock, ComponentImportOptions())
    assert refused.refused
    with city.reader() as s:
        rows = s.execute(
            select(
                ComponentHistoryRow.component_id,
                ComponentHistoryRow.action,
                ComponentHistoryRow.actor,
                ComponentHistoryRow.changes,
            )
        ).all()
    assert [tuple(r[:3]) for r in rows] == [(None, "imported", "console")]
    assert rows[0].changes == {
        "data_source": "survey 2026",
        "rows": 3,
        "written": 2,
        "rejected_rows": 1,
    }


def test_the_database_refuses_to_update_or_delete_history(
    city: Database, clock: FixedClock
) -> None:
    with city.unit_of_work() as s:
        cid = services.create_component(s, COVER, clock).id
    statements = [
        update(ComponentHistoryRow).values(actor="someone else"),
        delete(ComponentHistoryRow),
        text("UPDATE component_history SET changes = '{}' WHERE component_id = :cid").bindparams(
            cid=cid
        ),
        text("DELETE FROM component_history WHERE component_id = :cid").bindparams(cid=cid),
    ]
    for statement in statements:
        with (
            pytest.raises(DBAPIError, match="component_history is append-only"),
            city.engine.begin() as conn,
        ):
            conn.execute(statement)
    with city.reader() as s:
        assert s.scalar(select(func.count()).select_from(ComponentHistoryRow)) == 1
    assert _history(city, cid)[0].actor == "console"
