"""The three public rates of the 12345 hotline (响应率 / 解决率 / 满意率), per unit and period.

Official formulas are not public; these are OneGrid's working definitions (DOMAIN.md section 6),
kept here in plain Python so the lake's rankings compute exactly the same numbers:

- **response rate** = cases dispatched to the unit in the period whose requester the unit
  contacted within the response limit ÷ cases dispatched to the unit in the period;
- **resolution rate** = callbacks in the period answering "resolved" ÷ callbacks in the period
  about the unit's cases;
- **satisfaction rate** = (callbacks answering "satisfied" + w × "basically satisfied") ÷
  callbacks, where w is the configurable weight (``basically_satisfied_weight``, default 0.8).

A rate whose denominator is zero is ``None`` (no data), never 0 or 100 %.

"Dispatched to the unit" counts the desk's direct dispatches (the routes it stores). A case the
unit returns as not its own stays counted for that dispatch, and its contact can no longer be
recorded once it is returned: a unit that returns a case should first contact the requester,
as a unit that keeps it must (the ranking's returned count shows the returns beside it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitFacts:
    """What the rates are computed from, for one unit and one period."""

    unit: str
    dispatched: int = 0
    responded_in_time: int = 0
    callbacks: int = 0
    resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0


@dataclass(frozen=True)
class UnitRates:
    facts: UnitFacts
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None


def _ratio(numerator: float, denominator: int) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 6)


def rates_of(facts: UnitFacts, basically_satisfied_weight: float) -> UnitRates:
    """The three rates from the counts (see the module's docstring for the formulas)."""
    satisfied = facts.satisfied + basically_satisfied_weight * facts.basically_satisfied
    return UnitRates(
        facts,
        _ratio(facts.responded_in_time, facts.dispatched),
        _ratio(facts.resolved, facts.callbacks),
        _ratio(satisfied, facts.callbacks),
    )
