"""Shards: every device belongs to exactly one of N, decided from its id alone."""

from __future__ import annotations

import pytest

from onegrid.core.errors import DomainError
from onegrid.sensing.domain.shards import Shard


def test_every_device_belongs_to_exactly_one_shard_and_the_shards_share_them() -> None:
    ids = [f"AQ-{i:05d}" for i in range(4000)] + ["井盖-7", "MC-00001"]
    for count in (1, 2, 3, 5):
        shards = [Shard(i, count) for i in range(count)]
        owners = [[s.index for s in shards if s.owns(d)] for d in ids]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(1 for o in owners if o == [i]) for i in range(count)]
        assert min(sizes) > len(ids) / count * 0.9  # no shard is left with a small share


def test_a_message_naming_no_device_belongs_to_the_first_shard() -> None:
    assert [Shard(i, 3).owns(None) for i in range(3)] == [True, False, False]
    assert [Shard(i, 2).owns("") for i in range(2)] == [True, False]


def test_shards_are_written_i_of_n() -> None:
    assert Shard.parse("1/4") == Shard(1, 4)
    assert str(Shard.parse(" 0 / 2 ")) == "0/2"
    assert Shard().alone and not Shard(0, 2).alone


@pytest.mark.parametrize("text", ["2/2", "1", "a/2", "-1/2", "0/0", "1/0"])
def test_a_shard_outside_its_count_is_refused_with_the_rule(text: str) -> None:
    with pytest.raises(DomainError, match=r"i/N|0 … count"):
        Shard.parse(text)
