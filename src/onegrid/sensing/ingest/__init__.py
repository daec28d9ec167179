"""Ingest: the pipeline every source feeds (MQTT, HTTP batches, replays), and the sources."""
