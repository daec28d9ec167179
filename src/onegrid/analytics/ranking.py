"""The ranking configuration: weights, bands and targets, versioned by the month they apply from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from onegrid.core.errors import FieldProblem, InvalidInput

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


def _rules(raw: dict[str, Any], source: str) -> RankingRules:
    version = str(raw.get("version", "?"))
    weights = raw.get("weights") or {}
    if set(weights) != set(RATES):
        raise _bad(
            "weights",
            "three_rates",
            f"{source} version {version}: weights must name exactly {', '.join(RATES)}",
        )
    values = {k: float(v) for k, v in weights.items()}
    total = sum(values.values())
    if any(v < 0 for v in values.values()) or not math.isclose(total, 1.0, abs_tol=1e-9):
        raise _bad(
            "weights",
            "sum_to_one",
            f"{source} version {version}: weights must be ≥ 0 and add up to 1, "
            f"they add up to {total:g}",
        )
    return RankingRules(
        version,
        date.fromisoformat(str(raw["valid_from"])),
        values,
        float(raw.get("basically_satisfied_weight", 0.8)),
        float(raw.get("response_limit_hours", 24)),
        int(raw.get("settle_days", 10)),
        {str(k): float(v) for k, v in (raw.get("bands") or {"-": 0}).items()},
        {str(k): float(v) for k, v in (raw.get("targets") or {}).items()},
    )


def load_ranking_rules(path: Path | None = None) -> list[RankingRules]:
    if path is None:
        text = resources.files("onegrid.analytics").joinpath("data/ranking.yaml").read_text("utf-8")
        source = "ranking.yaml"
    else:
        text, source = path.read_text(encoding="utf-8"), path.name
    raw = yaml.safe_load(text) or {}
    versions = [_rules(v, source) for v in raw.get("versions", [])]
    if not versions:
        raise _bad("versions", "required", f"{source}: no versions")
    return sorted(versions, key=lambda r: r.valid_from)


def rules_for(versions: list[RankingRules], month_start: date) -> RankingRules:
    chosen = [v for v in versions if v.valid_from <= month_start]
    if not chosen:
        raise _bad("month", "configured", f"no ranking configuration applies to {month_start}")
    # The latest that applies, whatever order the caller's list is in.
    return max(chosen, key=lambda v: v.valid_from)
