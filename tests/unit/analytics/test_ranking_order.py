"""The monthly ranking's order over a hand-made three-rate table: equal scores share a rank,
units without a score have none and come last."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from onegrid.analytics.evaluation import _ranked

BANDS = pa.table({"band": ["good", "fair"], "min_score": [90.0, 0.0]})


def _rank(scores: dict[str, float | None]) -> list[tuple[str, int | None, str | None]]:
    rates = pa.table(
        {"unit": list(scores), "score": pa.array(list(scores.values()), type=pa.float64())}
    )
    with duckdb.connect() as con:
        rows = _ranked(con, rates, BANDS).to_pylist()
    return [(r["unit"], r["rank"], r["band"]) for r in rows]


def test_units_without_a_score_have_no_rank_and_come_last() -> None:
    assert _rank({"A": None, "B": 95.0, "C": None, "D": 40.0}) == [
        ("B", 1, "good"),
        ("D", 2, "fair"),
        ("A", None, None),
        ("C", None, None),
    ]


def test_equal_scores_share_a_rank_and_the_next_rank_skips() -> None:
    assert [(u, r) for u, r, _ in _rank({"A": 80.0, "B": 95.0, "C": 80.0, "D": 10.0})] == [
        ("B", 1),
        ("A", 2),
        ("C", 2),
        ("D", 4),
    ]


def test_a_month_with_no_scores_ranks_nobody() -> None:
    assert [r for _, r, _ in _rank({"A": None, "B": None})] == [None, None]
