"""The demo's synthetic address register: door plates along each community's streets."""

from __future__ import annotations

import re

import shapely

from onegrid.demo.addresses import demo_addresses
from onegrid.demo.geometry import synth_city
from onegrid.grid.addresses import normalise_address


def test_every_community_has_numbered_plates_inside_it() -> None:
    areas = synth_city(11)
    rows = demo_addresses(areas)
    communities = {a.code: a for a in areas if a.level == "community"}
    by_community: dict[str, int] = {}
    for r in rows:
        code = r.id[:12]
        assert shapely.contains_xy(communities[code].geometry, r.lon, r.lat), r
        by_community[code] = by_community.get(code, 0) + 1
    assert set(by_community) == set(communities)
    assert min(by_community.values()) >= 4
    # City, district, subdistrict, a street of the community, a door number.
    first = rows[0]
    assert re.fullmatch(r"示范市.+区.+街道.+[路街]\d+号", first.text), first.text
    assert first.text.startswith("示范市东湖区")


def test_ids_and_addresses_are_unique_and_the_same_for_a_seed() -> None:
    rows = demo_addresses(synth_city(11))
    assert len({r.id for r in rows}) == len(rows)
    assert len({normalise_address(r.text) for r in rows}) == len(rows)
    assert rows == demo_addresses(synth_city(11))
