"""Sensing: devices, MQTT and HTTP ingest, rules that raise alerts and cases, shared bikes."""
