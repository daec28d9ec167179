"""The mapping file: the shipped one reads, and one that cannot be used is refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

import onegrid.cases
from onegrid.cases.csvmapping import read_mapping
from onegrid.core.errors import InvalidInput

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
    path = tmp_path / "mapping.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        read_mapping(path)
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == ("mapping", rule)
    assert str(path) in problem.message and says in problem.message
