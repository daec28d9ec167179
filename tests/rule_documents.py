"""Pieces of the city's rule documents (the YAML files' shape) that rule tests add or change."""

from __future__ import annotations

from typing import Any


def new_limits_version(
    label: str, valid_from: str, rules: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A time-limit version with one-hour dispatch, two-day handling and two-hour checks."""
    version: dict[str, Any] = {
        "version": label,
        "valid_from": valid_from,
        "defaults": {
            "dispatch": "1 working_hours",
            "handle": "2 working_days",
            "check": "2 working_hours",
        },
    }
    if rules is not None:
        version["rules"] = rules
    return version
