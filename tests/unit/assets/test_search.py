"""Finding a class from words a person uses, in Chinese or English."""

from __future__ import annotations

from onegrid.assets.domain import Category
from onegrid.assets.taxonomy import DEFAULT_TAXONOMY, read_taxonomy_file

CATEGORIES = read_taxonomy_file(DEFAULT_TAXONOMY).categories


def _best(text: str) -> list[str]:
    scored = sorted(
        ((c.search_score(text), c.code) for c in CATEGORIES), key=lambda sc: (-sc[0], sc[1])
    )
    return [code for score, code in scored if score > 0]


def _by(code: str) -> Category:
    return next(c for c in CATEGORIES if c.code == code)


def test_exact_code_and_name_come_first() -> None:
    assert _best("C0101")[0] == "C0101"
    assert _best("共享单车乱停放")[0] == "E0506"
    assert _best("fire hydrant")[0] == "C0119"


def test_keywords_find_a_class() -> None:
    assert "E0506" in _best("共享单车")
    assert _best("僵尸车")[0] == "E0107"
    assert _best("pothole")[0] == "E0108"


def test_a_sentence_finds_the_class_of_a_keyword_inside_it() -> None:
    found = _best("小区门口的井盖丢了")
    assert found and all(_by(code).name_zh.endswith("井盖") for code in found[:5])
    assert "E0401" in _best("路面塌陷了一个大坑")


def test_nothing_matches_nonsense() -> None:
    assert _best("qwertyuiop") == []
    assert _best("   ") == []
