"""Recording, changing and finding components in a real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from onegrid.assets import queries, services
from onegrid.assets.domain import ComponentChange, ComponentDraft, ComponentState
from onegrid.core.clock import FixedClock
from onegrid.core.errors import Conflict, InvalidInput, NotFound
from onegrid.db.session import Database
from tests.integration.assets.city import IN_EAST, IN_WEST, OUTSIDE, build_city

COVER = ComponentDraft(
    class_code="C0101", name="上水井盖", lon=IN_WEST[0], lat=IN_WEST[1], owner="water"
)


def _create(db: Database, clock: FixedClock, draft: ComponentDraft = COVER) -> str:
    with db.unit_of_work() as s:
        return services.create_component(s, draft, clock).id


def _problem(exc: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, str]:
    return exc.value.problems[0].field, exc.value.problems[0].rule


def test_a_component_is_located_and_numbered(city: Database, clock: FixedClock) -> None:
    first = _create(city, clock)
    second = _create(city, clock, replace(COVER, lon=IN_WEST[0] + 0.001))
    lamp = _create(
        city,
        clock,
        replace(COVER, class_code="C0115", name="", owner="lamps", lon=IN_EAST[0], lat=IN_EAST[1]),
    )
    assert (first, second, lamp) == ("1101010101000001", "1101010101000002", "1101020115000001")
    with city.reader() as s:
        c = queries.get_component(s, first)
        assert (c.district, c.subdistrict, c.community) == ("110101", "110101001", "110101001001")
        assert c.admin_code == "110101" and c.class_code == "C0101"
        assert c.state is ComponentState.NORMAL
        assert c.first_recorded == date(2026, 3, 2)  # the clock's day in Beijing
        assert c.last_changed == clock.now()
        assert c.h3_10 is not None and len(c.h3_10) == 15
        assert queries.get_component(s, lamp).name == "路灯"


def test_a_given_id_is_kept_and_numbering_continues_after_it(
    city: Database, clock: FixedClock
) -> None:
    _create(city, clock, replace(COVER, id="1101010101000041"))
    assert _create(city, clock) == "1101010101000042"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": "1101010102000001"}, ("id", "id_matches_class")),
        ({"id": "1101020101000001"}, ("id", "id_matches_district")),
        ({"id": "11010101010001"}, ("id", "id_format")),
        ({"class_code": "C7777"}, ("class_code", "known_class")),
        ({"class_code": "E0102"}, ("class_code", "component_class")),
        ({"owner": "nobody"}, ("owner", "known_department")),
        ({"maintainer": "nobody"}, ("maintainer", "known_department")),
        ({"lon": OUTSIDE[0], "lat": OUTSIDE[1]}, ("lon", "inside_city")),
        ({"first_recorded": date(2027, 1, 1)}, ("first_recorded", "not_in_future")),
    ],
)
def test_bad_components_are_refused_naming_field_and_rule(
    city: Database, clock: FixedClock, change: dict[str, object], expected: tuple[str, str]
) -> None:
    with city.unit_of_work() as s, pytest.raises(InvalidInput) as exc:
        services.create_component(s, replace(COVER, **change), clock)  # type: ignore[arg-type]
    assert expected in {(p.field, p.rule) for p in exc.value.problems}
    with city.reader() as s:
        assert queries.list_components(s).items == []


def test_an_id_cannot_be_recorded_twice(city: Database, clock: FixedClock) -> None:
    cid = _create(city, clock, replace(COVER, id="1101010101000007"))
    with city.unit_of_work() as s, pytest.raises(Conflict) as exc:
        services.create_component(s, replace(COVER, id=cid), clock)
    assert cid in exc.value.message


def test_a_test_city_numbers_under_the_given_admin_code(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as s:
        build_city(s, clock, tmp_path, admin_codes=False)
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as exc:
        services.create_component(s, COVER, clock)
    assert _problem(exc) == ("admin_code", "admin_code_known")
    cid = _create(db, clock, replace(COVER, admin_code="990101"))
    assert cid == "9901010101000001"
    # Any 6-digit admin code is accepted where districts carry no admin codes.
    assert _create(db, clock, replace(COVER, id="1234560101000001")) == "1234560101000001"


def test_update_changes_fields_and_moves_within_the_district(
    city: Database, clock: FixedClock
) -> None:
    cid = _create(city, clock)
    clock.advance(timedelta(hours=1))
    change = ComponentChange(
        {"name": "新名字", "maintainer": "sewer", "note": "checked", "lon": 116.301, "lat": 39.919}
    )
    with city.unit_of_work() as s:
        c = services.update_component(s, cid, change, clock)
    assert (c.name, c.maintainer, c.note, c.lon, c.lat) == (
        "新名字",
        "sewer",
        "checked",
        116.301,
        39.919,
    )
    assert c.last_changed == clock.now()
    with city.unit_of_work() as s:
        c = services.update_component(s, cid, ComponentChange({"maintainer": None}), clock)
    assert c.maintainer is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"lon": IN_EAST[0], "lat": IN_EAST[1]}, ("lon", "id_matches_district")),
        ({"lon": OUTSIDE[0], "lat": OUTSIDE[1]}, ("lon", "inside_city")),
        ({"lon": 116.3}, ("lon", "both_coordinates")),
        ({"lon": None, "lat": None}, ("lon", "number")),
        ({"class_code": "C0102"}, ("class_code", "changeable")),
        ({"owner": ""}, ("owner", "required")),
        ({"owner": "nobody"}, ("owner", "known_department")),
    ],
)
def test_bad_updates_are_refused(
    city: Database, clock: FixedClock, values: dict[str, object], expected: tuple[str, str]
) -> None:
    cid = _create(city, clock)
    with city.unit_of_work() as s, pytest.raises(InvalidInput) as exc:
        services.update_component(s, cid, ComponentChange(values), clock)
    assert expected in {(p.field, p.rule) for p in exc.value.problems}
    with city.reader() as s:
        assert queries.get_component(s, cid).lon == IN_WEST[0]


def test_states_follow_the_table_and_removed_is_final(city: Database, clock: FixedClock) -> None:
    cid = _create(city, clock)
    with city.unit_of_work() as s:
        services.change_component_state(s, cid, ComponentState.DAMAGED, clock)
        services.change_component_state(s, cid, ComponentState.UNDER_REPAIR, clock)
    with city.unit_of_work() as s, pytest.raises(InvalidInput):
        services.change_component_state(s, cid, ComponentState.LOST, clock)
    with city.unit_of_work() as s:
        assert services.retire_component(s, cid, clock).state is ComponentState.REMOVED
    with city.unit_of_work() as s, pytest.raises(Conflict):
        services.update_component(s, cid, ComponentChange({"name": "x"}), clock)
    with city.unit_of_work() as s, pytest.raises(Conflict):
        services.change_component_state(s, cid, ComponentState.NORMAL, clock)
    with city.unit_of_work() as s, pytest.raises(NotFound):
        services.retire_component(s, "1101010101999999", clock)


def test_listing_filters_and_pages(city: Database, clock: FixedClock) -> None:
    west = [_create(city, clock) for _ in range(5)]
    east = [
        _create(
            city,
            clock,
            replace(COVER, class_code="C0115", owner="lamps", lon=IN_EAST[0], lat=IN_EAST[1]),
        )
        for _ in range(3)
    ]
    with city.unit_of_work() as s:
        services.change_component_state(s, west[0], ComponentState.DAMAGED, clock)
    with city.reader() as s:
        page = queries.list_components(s, limit=3)
        seen = [c.id for c in page.items]
        while page.next_cursor:
            page = queries.list_components(s, cursor=page.next_cursor, limit=3)
            seen += [c.id for c in page.items]
        assert seen == sorted(west + east)

        def ids(**kw: object) -> list[str]:
            f = queries.ComponentFilter(**kw)  # type: ignore[arg-type]
            return [c.id for c in queries.list_components(s, f).items]

        assert ids(area="110102") == east
        assert ids(area="110101001001") == west
        assert ids(class_code="C01") == sorted(west + east)
        assert ids(class_code="C0115") == east
        assert ids(owner="lamps") == east
        assert ids(state=ComponentState.DAMAGED) == west[:1]
        assert ids(visible_areas=frozenset({"110101"})) == west
        assert ids(visible_areas=frozenset(), visible_departments=frozenset({"lamps"})) == east
        with pytest.raises(InvalidInput) as exc:
            queries.list_components(s, cursor="%%%")
        assert exc.value.problems[0].field == "cursor"


def test_nearby_finds_the_closest_first(city: Database, clock: FixedClock) -> None:
    near = _create(city, clock, replace(COVER, lon=IN_WEST[0] + 0.0002))  # ~17 m east
    nearer = _create(city, clock, replace(COVER, lon=IN_WEST[0], lat=IN_WEST[1] + 0.0001))
    _far = _create(city, clock, replace(COVER, lon=IN_WEST[0] + 0.004))  # ~340 m east
    lamp = _create(
        city, clock, replace(COVER, class_code="C0115", owner="lamps", lon=IN_WEST[0] - 0.0003)
    )
    with city.reader() as s:
        found = queries.nearby_components(s, *IN_WEST, radius_m=50)
        assert [n.component.id for n in found] == [nearer, near, lamp]
        assert found[0].distance_m == pytest.approx(11.1, abs=0.5)
        only = queries.nearby_components(s, *IN_WEST, radius_m=50, class_code="C0101")
        assert [n.component.id for n in only] == [nearer, near]
        assert len(queries.nearby_components(s, *IN_WEST, radius_m=500)) == 4
        with pytest.raises(InvalidInput) as exc:
            queries.nearby_components(s, *IN_WEST, radius_m=5000)
        assert exc.value.problems[0].field == "radius_m"


def test_counts_by_class_per_area(city: Database, clock: FixedClock) -> None:
    for _ in range(2):
        _create(city, clock)
    _create(city, clock, replace(COVER, class_code="C0115", owner="lamps"))
    cid = _create(city, clock, replace(COVER, lon=IN_EAST[0], lat=IN_EAST[1]))
    with city.unit_of_work() as s:
        services.retire_component(s, cid, clock)
    with city.reader() as s:
        counts = {(c.area_code, c.class_code): c.count for c in queries.count_by_class(s)}
        assert counts == {("110101", "C0101"): 2, ("110101", "C0115"): 1}
        both = queries.count_by_class(s, "community", include_removed=True, within="110102")
        assert [(c.area_code, c.class_code, c.count) for c in both] == [
            ("110102001001", "C0101", 1)
        ]
