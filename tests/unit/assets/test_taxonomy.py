"""The taxonomy file: the shipped one is valid; every broken rule is named with its record and
the path of its field in the document."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from onegrid.assets.domain import Kind, Urgency
from onegrid.assets.taxonomy import (
    DEFAULT_TAXONOMY,
    parse_taxonomy,
    parse_taxonomy_text,
    read_taxonomy_file,
    taxonomy_as_document,
)
from onegrid.core.errors import InvalidInput


def _doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "test",
        "version": "1",
        "components": [
            {
                "major": "01",
                "name_zh": "公用设施",
                "name_en": "Public utilities",
                "classes": [
                    {"minor": "01", "name_zh": "上水井盖", "name_en": "Water cover"},
                    {"minor": "02", "name_zh": "污水井盖", "name_en": "Sewage cover"},
                ],
            }
        ],
        "events": [
            {
                "major": "04",
                "name_zh": "突发事件",
                "name_en": "Emergencies",
                "classes": [
                    {
                        "minor": "01",
                        "name_zh": "道路塌陷",
                        "name_en": "Road collapse",
                        "urgency": "critical",
                        "emergency": True,
                    },
                ],
            }
        ],
    }
    doc.update(overrides)
    return doc


def _problems(data: Any) -> list[tuple[str | None, str, str]]:
    with pytest.raises(InvalidInput) as exc:
        parse_taxonomy(data)
    return [(p.record, p.field, p.rule) for p in exc.value.problems]


def test_the_shipped_taxonomy_is_valid_and_covers_the_domain() -> None:
    doc = read_taxonomy_file(DEFAULT_TAXONOMY)
    by_code = doc.by_code()
    assert 60 <= len(doc.categories) <= 120
    assert by_code["C0101"].name_zh == "上水井盖"
    covers = [
        c
        for c in doc.categories
        if c.kind is Kind.COMPONENT and c.major == "01" and c.name_zh.endswith("井盖")
    ]
    assert len(covers) == 13
    assert by_code["E0506"].name_zh == "共享单车乱停放"
    assert by_code["E0401"].emergency and by_code["E0401"].urgency is Urgency.CRITICAL
    assert {c.major for c in doc.categories if c.kind is Kind.COMPONENT} == {
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
    }
    for c in doc.categories:
        assert c.name_zh and c.name_en and c.keywords_zh and c.keywords_en, c.code
        assert c.code == f"{c.kind.prefix}{c.major}{c.minor}"


def test_a_good_document_parses() -> None:
    doc = parse_taxonomy(_doc())
    assert [c.code for c in doc.categories] == ["C0101", "C0102", "E0401"]
    water = doc.by_code()["C0101"]
    assert (water.major_name_zh, water.urgency, water.emergency) == (
        "公用设施",
        Urgency.NORMAL,
        False,
    )


def test_a_duplicate_code_is_refused_naming_it() -> None:
    data = _doc()
    data["components"][0]["classes"][1]["minor"] = "01"
    assert ("C0101", "components[0].classes[1].minor", "unique_code") in _problems(data)


@pytest.mark.parametrize("major", ["1", "001", "A1", None, 100])
def test_a_bad_major_is_refused_naming_the_record(major: Any) -> None:
    data = _doc()
    data["components"][0]["major"] = major
    assert ("components[0]", "components[0].major", "two_digits") in _problems(data)


def test_a_bad_minor_is_refused_naming_the_record() -> None:
    data = _doc()
    data["events"][0]["classes"][0]["minor"] = "1a"
    assert ("E04[0]", "events[0].classes[0].minor", "two_digits") in _problems(data)


def test_names_must_be_present() -> None:
    data = _doc()
    data["components"][0]["classes"][0]["name_en"] = "  "
    assert ("C0101", "components[0].classes[0].name_en", "required") in _problems(data)


def test_unknown_fields_and_values_are_refused_all_at_once() -> None:
    data = _doc()
    cls = data["events"][0]["classes"][0]
    cls["emergancy"] = True
    cls["urgency"] = "asap"
    found = _problems(data)
    assert ("E0401", "events[0].classes[0].emergancy", "known_field") in found
    assert ("E0401", "events[0].classes[0].urgency", "known_urgency") in found


def test_a_version_label_is_required() -> None:
    assert (None, "version", "required") in _problems(_doc(version=""))


def test_unquoted_yaml_numbers_mean_the_same_two_digits() -> None:
    text = """
name: t
version: 1
components:
  - major: 01
    name_zh: 公用设施
    name_en: Public utilities
    classes:
      - {minor: 08, name_zh: 通信井盖, name_en: Telecom cover}
      - {minor: 07, name_zh: 路灯井盖, name_en: Lamp cover}
"""
    doc = parse_taxonomy_text(text)
    assert [c.code for c in doc.categories] == ["C0108", "C0107"]


def test_syntax_errors_name_the_format() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_taxonomy_text("{not: [valid", "yaml")
    assert exc.value.problems[0].rule == "yaml_syntax"
    with pytest.raises(InvalidInput) as exc:
        parse_taxonomy_text("{", "json")
    assert exc.value.problems[0].rule == "json_syntax"


def test_export_loads_back_with_the_same_checksum() -> None:
    doc = read_taxonomy_file(DEFAULT_TAXONOMY)
    exported = taxonomy_as_document(doc.name, doc.label, doc.note, doc.categories)
    again = parse_taxonomy_text(json.dumps(exported, ensure_ascii=False), "json")
    assert again.checksum == doc.checksum
    assert (
        parse_taxonomy_text(yaml.safe_dump(exported, allow_unicode=True)).checksum == doc.checksum
    )


def test_the_checksum_changes_with_the_content() -> None:
    a = parse_taxonomy(_doc())
    data = _doc()
    data["components"][0]["classes"][0]["name_en"] = "Water-supply cover"
    assert parse_taxonomy(data).checksum != a.checksum


def test_a_deactivated_class_is_kept_and_changes_the_checksum_only_then() -> None:
    data = _doc()
    data["components"][0]["classes"][1]["active"] = False
    doc = parse_taxonomy(data)
    assert [c.active for c in doc.categories] == [True, False, True]
    assert doc.checksum != parse_taxonomy(_doc()).checksum
    data["components"][0]["classes"][1]["active"] = True
    assert parse_taxonomy(data).checksum == parse_taxonomy(_doc()).checksum
    exported = taxonomy_as_document(doc.name, doc.label, doc.note, doc.categories)
    assert exported["components"][0]["classes"][1]["active"] is False
    assert "active" not in exported["components"][0]["classes"][0]
    assert parse_taxonomy(exported).checksum == doc.checksum
    data["components"][0]["classes"][1]["active"] = "no"
    assert ("C0102", "components[0].classes[1].active", "boolean") in _problems(data)
