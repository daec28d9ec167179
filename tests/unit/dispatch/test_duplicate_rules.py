"""Nearness, text similarity and the cells a check reads."""

from __future__ import annotations

import math
import random

import pytest

from onegrid.core.errors import InvalidInput
from onegrid.dispatch.duplicates.domain import (
    DuplicateRules,
    bigrams,
    distance_m,
    score,
    similarity,
)
from onegrid.dispatch.duplicates.index import cell_of, cells_around


def test_similarity_of_chinese_and_english() -> None:
    a = bigrams("小区门口垃圾堆积无人清理")
    assert similarity(a, a) == 1.0
    assert similarity(a, bigrams("门口垃圾没人清理")) > 0.4
    assert similarity(a, bigrams("路灯不亮")) == 0.0
    assert similarity(bigrams("Rubbish piled up!"), bigrams("rubbish  piled up")) == 1.0
    assert similarity(bigrams(""), a) == 0.0


def test_score_weighs_nearness_and_text() -> None:
    rules = DuplicateRules(radius_m=100, distance_weight=0.4, text_weight=0.6)
    assert score(rules, 0, 1.0) == pytest.approx(1.0)
    assert score(rules, 50, 0.5) == pytest.approx(0.4 * 0.5 + 0.6 * 0.5)
    assert score(rules, 150, 0.0) == 0.0


def test_distance() -> None:
    # One thousandth of a degree of latitude is ~111 m.
    assert distance_m(116.3, 39.9, 116.3, 39.901) == pytest.approx(111.2, abs=0.5)


@pytest.mark.parametrize("radius", [50.0, 150.0, 400.0])
def test_the_cells_read_cover_the_radius(radius: float) -> None:
    rules = DuplicateRules(radius_m=radius)
    rng = random.Random(7)
    for _ in range(300):
        lon, lat = 116.2 + rng.random() * 0.3, 39.8 + rng.random() * 0.2
        cells = set(cells_around(lon, lat, rules.ring))
        bearing = rng.random() * 2 * math.pi
        dlat = radius * math.cos(bearing) / 111_195
        dlon = radius * math.sin(bearing) / (111_195 * math.cos(math.radians(lat)))
        assert cell_of(lon + dlon, lat + dlat) in cells


def test_rule_file_checks() -> None:
    with pytest.raises(InvalidInput) as caught:
        DuplicateRules.from_dict({"radius_m": 0, "text_weight": 0.9, "threshold": 2})
    assert {p.field for p in caught.value.problems} == {"radius_m", "text_weight", "threshold"}
    assert DuplicateRules.from_dict({"radius_m": 80}).radius_m == 80.0
    with pytest.raises(InvalidInput) as caught:
        DuplicateRules.from_dict({"max_scanned": 0})
    assert [p.field for p in caught.value.problems] == ["max_scanned"]
    assert DuplicateRules.from_dict({"max_scanned": 50}).max_scanned == 50
