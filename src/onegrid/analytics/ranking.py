"""The ranking configuration: weights, bands and targets, versioned by the month they apply from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from onegrid.analytics.settings import analytics_settings
from onegrid.core.errors import FieldProblem, InvalidInput
from onegrid.core.yamlfile import read_yaml

RATES = ("response", "resolution", "satisfaction")


@dataclass(frozen=True)
class RankingRules:
    version: str
    valid_from: date
    weights: dict[str, float]
    basically_satisfied_weight: float
    response_limit_hours: float
    settle_days: int
    bands: dict[str, float]
    targets: dict[str, float]


def _bad(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(FieldProblem(field, rule, message))


def _rules(raw: Any, source: str) -> RankingRules:
    if not isinstance(raw, dict):
        raise _bad("versions", "mapping", f"{source}: each version must be a mapping")
    version = str(raw.get("version", "?"))
    weights = raw.get("weights") or {}
    if not isinstance(weights, dict) or set(weights) != set(RATES):
        raise _bad(
            "weights",
            "three_rates",
            f"{source} version {version}: weights must name exactly {', '.join(RATES)}",
        )
    try:
        values = {str(k): float(v) for k, v in weights.items()}
    except (TypeError, ValueError):
        raise _bad(
            "weights", "numbers", f"{source} version {version}: weights must be numbers"
        ) from None
    total = sum(values.values())
    if any(v < 0 for v in values.values()) or not math.isclose(total, 1.0, abs_tol=1e-9):
        raise _bad(
            "weights",
            "sum_to_one",
            f"{source} version {version}: weights must be ≥ 0 and add up to 1, "
            f"they add up to {total:g}",
        )
    try:
        valid_from = date.fromisoformat(str(raw["valid_from"]))
    except (KeyError, ValueError):
        raise _bad(
            "valid_from", "date", f"{source} version {version}: valid_from must be a YYYY-MM-DD"
        ) from None
    try:
        return RankingRules(
            version,
            valid_from,
            values,
            float(raw.get("basically_satisfied_weight", 0.8)),
            float(raw.get("response_limit_hours", 24)),
            int(raw.get("settle_days", 10)),
            {str(k): float(v) for k, v in (raw.get("bands") or {"-": 0}).items()},
            {str(k): float(v) for k, v in (raw.get("targets") or {}).items()},
        )
    except (AttributeError, TypeError, ValueError):
        raise _bad(
            "versions",
            "numbers",
            f"{source} version {version}: basically_satisfied_weight, response_limit_hours, "
            "settle_days, bands and targets must be numbers",
        ) from None


def load_ranking_rules(path: Path | None = None) -> list[RankingRules]:
    """Every version in ``path``, else in the configured file (``ONEGRID_ANALYTICS_RANKING_FILE``,
    by default the packaged ``data/ranking.yaml``); a refusal names the file."""
    path = path or analytics_settings().ranking_file
    source = str(path)
    raw = read_yaml(path, "ranking_file")
    versions = [_rules(v, source) for v in raw.get("versions") or []]
    if not versions:
        raise _bad("versions", "required", f"{source}: no versions")
    return sorted(versions, key=lambda r: r.valid_from)


def rules_for(versions: list[RankingRules], month_start: date) -> RankingRules:
    chosen = [v for v in versions if v.valid_from <= month_start]
    if not chosen:
        raise _bad("month", "configured", f"no ranking configuration applies to {month_start}")
    # The latest that applies, whatever order the caller's list is in.
    return max(chosen, key=lambda v: v.valid_from)
