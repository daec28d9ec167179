"""A backtest year the calendar arithmetic cannot reach (before year 2, which has no year before
it; after 9998, whose buckets end past the last date) is refused by name with the range; the
years at either end are worked out as any other. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from onegrid.db.session import Database
from tests.api.analytics.test_analytics_api import _auth, lake_city  # noqa: F401

pytestmark = pytest.mark.postgres
URL = "/api/v1/analytics/forecast/backtest"


@pytest.mark.parametrize(
    "params",
    [
        {"year": 0},
        {"year": 1},
        {"year": -5},
        {"year": 10000},
        {"year": 9999},
        {"year": 9999, "grain": "week"},
        {"year": 1, "grain": "week"},
        {"year": 10**20},
    ],
)
def test_a_year_out_of_reach_is_refused_with_the_range(
    lake_city: Database,  # noqa: F811
    client: TestClient,
    params: dict[str, int | str],
) -> None:
    resp = client.get(URL, params=params, headers=_auth(client))
    assert resp.status_code == 422, resp.text
    [error] = resp.json()["errors"]
    assert (error["field"], error["rule"]) == ("year", "year_range")
    assert "from 2 to 9998" in error["message"]


@pytest.mark.parametrize("grain", ["month", "week"])
def test_the_first_and_last_years_are_worked_out(
    lake_city: Database,  # noqa: F811
    client: TestClient,
    grain: str,
) -> None:
    h = _auth(client)
    # The lake holds February 2026: year 2 has no history, 9998 no complete bucket yet.
    first = client.get(URL, params={"year": 2, "grain": grain}, headers=h)
    assert first.status_code == 422 and '"year_of_history"' in first.text, first.text
    last = client.get(URL, params={"year": 9998, "grain": grain}, headers=h)
    assert last.status_code == 422 and '"complete_buckets"' in last.text, last.text
