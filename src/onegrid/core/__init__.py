"""Shared kernel: settings, clock, errors and value types. No tables, no web."""
