"""The mapping file: the shipped one reads, and one that cannot be used is refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

import onegrid.cases
from onegrid.cases.csvmapping import read_mapping
from tests.support import assert_yaml_refused

SHIPPED = Path(onegrid.cases.__file__).parent / "data" / "nyc311_mapping.yaml"


def test_the_shipped_nyc311_mapping_reads() -> None:
    mapping = read_mapping(SHIPPED)
    assert mapping.source == "nyc311" and "created_at" in mapping.columns


@pytest.mark.parametrize(
    ("text", "rule", "says"),
    [
        (None, "readable", "cannot read"),
        ("columns: {id: [unclosed", "yaml", "is not valid YAML"),
        ("just a line of text\n", "mapping", "must hold a mapping"),
    ],
)
def test_a_mapping_file_that_cannot_be_used_is_refused_naming_it(
    tmp_path: Path, text: str | None, rule: str, says: str
) -> None:
    assert_yaml_refused(read_mapping, tmp_path / "mapping.yaml", text, "mapping", rule, says)
