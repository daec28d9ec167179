"""Duplicate detection (重复件): a new report near an open case of the same category."""
