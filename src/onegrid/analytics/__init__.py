"""Analytics: the Parquet lake exported from the operational database, and the declarative
DuckDB queries over it (evaluation, the three rates, rankings, hotspots, spikes, forecasts)."""
