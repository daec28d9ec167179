"""The read side of GET requests: its tuples line up with its columns, its order is total."""

from __future__ import annotations

from onegrid.api.open311.search import PLAIN, SORTS, PlainRequest, RequestQuery, statement


def test_plain_rows_are_read_by_position_in_the_order_selected() -> None:
    assert PlainRequest._fields == tuple(c.key for c in PLAIN)


def test_every_sort_ends_on_a_unique_key() -> None:
    for key in SORTS:
        for descending in (True, False):
            sql = str(statement(RequestQuery(sort=key, descending=descending)))
            order = sql.split("ORDER BY", 1)[1]
            assert "cases.id" in order or "cases.number" in order, (key, order)
