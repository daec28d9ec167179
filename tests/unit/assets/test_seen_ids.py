"""The set of IDs met during an import behaves like a set, whatever the batch sizes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from onegrid.assets.batches import SeenIds

_ids = st.integers(min_value=1_000_000_000_000_000, max_value=9_999_999_999_999_999)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_ids, max_size=40, unique=True), max_size=30), st.lists(_ids, max_size=40))
def test_contains_matches_a_python_set(batches: list[list[int]], probe: list[int]) -> None:
    seen = SeenIds()
    reference: set[int] = set()
    for batch in batches:
        fresh = [i for i in batch if i not in reference]
        seen.add(np.array(fresh, dtype=np.int64))
        reference.update(fresh)
        asked = np.array(batch + probe, dtype=np.int64)
        assert seen.contains(asked).tolist() == [int(i) in reference for i in asked]
    assert len(seen) == len(reference)


def test_runs_stay_few() -> None:
    seen = SeenIds()
    for start in range(0, 100_000, 1000):
        seen.add(np.arange(start, start + 1000, dtype=np.int64) + 10**15)
    assert len(seen._runs) <= 17  # logarithmic in the number of batches
    assert seen.contains(np.array([10**15, 10**15 + 99_999, 10**15 + 100_000])).tolist() == [
        True,
        True,
        False,
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_ids, max_size=30, unique=True), max_size=20), _ids, _ids)
def test_max_between_matches_a_python_max(batches: list[list[int]], a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    seen = SeenIds()
    reference: set[int] = set()
    for batch in batches:
        fresh = [i for i in batch if i not in reference]
        seen.add(np.array(fresh, dtype=np.int64))
        reference.update(fresh)
    inside = [i for i in reference if low <= i <= high]
    assert seen.max_between(low, high) == (max(inside) if inside else None)
