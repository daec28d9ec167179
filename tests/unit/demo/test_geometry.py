from __future__ import annotations

import shapely

from onegrid.demo.components import component_records, owner_of
from onegrid.demo.geometry import synth_city


def test_same_seed_same_city_and_other_seed_other_city() -> None:
    a, b, c = synth_city(7), synth_city(7), synth_city(8)
    assert [(x.code, x.geometry.wkb) for x in a] == [(x.code, x.geometry.wkb) for x in b]
    assert [x.geometry.wkb for x in a] != [x.geometry.wkb for x in c]


def test_each_tier_partitions_its_parent() -> None:
    areas = synth_city(3)
    by_code = {a.code: a for a in areas}
    for level in ("district", "subdistrict", "community"):
        children = [a for a in areas if a.level == level]
        for parent_code in {a.parent_code for a in children}:
            assert parent_code is not None
            kids = [a.geometry for a in children if a.parent_code == parent_code]
            parent = by_code[parent_code].geometry
            union = shapely.union_all(kids)
            assert abs(union.area - parent.area) / parent.area < 1e-6
            assert abs(sum(k.area for k in kids) - parent.area) / parent.area < 1e-6


def test_codes_nest_and_populations_roll_up() -> None:
    areas = synth_city(3)
    for a in areas:
        if a.level == "district":  # GB/T 2260: a district shares its city's first four digits
            assert a.parent_code is not None and a.code[:4] == a.parent_code[:4]
        elif a.parent_code:
            assert a.code.startswith(a.parent_code)
    city = areas[0]
    assert city.population == sum(a.population for a in areas if a.level == "community")


def test_owner_prefers_the_longest_duty_prefix() -> None:
    assert owner_of("C0115") == "SZJ"  # street lamp: roads office, not the C01 default
    assert owner_of("C0401") == "YLJ"  # street tree: greening bureau via C04
    assert owner_of("C0999") == "CGW"  # unknown class: the city management commission


def test_component_records_lie_inside_their_grid_and_repeat_for_a_seed() -> None:
    square = shapely.box(116.9, 39.3, 116.901, 39.301)
    names = {"C0115": "路灯", "C0401": "行道树"}
    first = list(component_records([("g1", square)], 20, seed=5, known_classes=names))
    again = list(component_records([("g1", square)], 20, seed=5, known_classes=names))
    assert first == again and first
    assert all(square.contains(shapely.Point(r["lon"], r["lat"])) for r in first)
    assert {r["class_code"] for r in first} <= set(names)
