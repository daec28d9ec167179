"""Acting before the call (未诉先办): an accepted forecast becomes a proactive case.

The case comes through the case context's own create path, on the higher-level instruction
channel (filed without on-site verification), at a point inside the area, with the department
the duty rules name suggested for dispatch. The forecast's identity (category, area, and the
month or the ISO week forecast) is the idempotency key, so accepting the same forecast twice
opens one case, and two accepted weeks of one month open two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from onegrid.analytics.findings import check_forecast_grain
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Channel, Nature
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.creating import create_case_in
from onegrid.core.clock import Clock
from onegrid.core.errors import NotFound
from onegrid.db.session import Database
from onegrid.db.writer import one_writer
from onegrid.grid.queries import get_area
from onegrid.people.domain import Principal


@dataclass(frozen=True)
class AcceptedForecast:
    """A forecast row accepted for action: ``bucket`` is a day of the month, or of the ISO
    week, that was forecast (the forecast's ``month`` or ``week``)."""

    category_code: str
    area_code: str
    bucket: date
    forecast: float
    grain: str = "month"

    def __post_init__(self) -> None:
        check_forecast_grain(self.grain)

    @property
    def period(self) -> str:
        """The month (2026-04) or ISO week (2026-W14) forecast; a week keeps its ISO year,
        so the week of 29 December 2025 is 2026-W01."""
        if self.grain == "week":
            iso = self.bucket.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return f"{self.bucket:%Y-%m}"


@dataclass(frozen=True)
class Opened:
    forecast: AcceptedForecast
    case: CaseRecord
    created: bool  # False: this forecast had opened its case before


def open_proactive_cases(
    db: Database,
    principal: Principal,
    accepted: list[AcceptedForecast],
    *,
    clock: Clock,
    rules: CaseRules,
) -> list[Opened]:
    """Open one case per accepted forecast, in one transaction: an unknown area or category
    anywhere in the list opens none."""
    out = []
    with one_writer(db.dialect), db.unit_of_work() as s:
        for a in accepted:
            try:
                point = get_area(s, a.area_code).geometry.representative_point()
            except NotFound:
                raise NotFound(f"no area {a.area_code!r} for the forecast") from None
            new = NewCase(
                category_code=a.category_code,
                channel=Channel.INSTRUCTION,
                nature=Nature.REPORT,
                description=(
                    f"未诉先办 (act before the call): about {a.forecast:.0f} requests of "
                    f"{a.category_code} forecast in {a.area_code} for {a.period}; "
                    "inspect and put right before they come."
                ),
                lon=float(point.x),
                lat=float(point.y),
                tags=("proactive", f"forecast:{a.period}"),
            )
            key = f"proactive:{a.category_code}:{a.area_code}:{a.period}"
            made = create_case_in(
                s, principal, new, clock=clock, rules=rules, idempotency_key=key, route=True
            )
            out.append(Opened(a, made.case, made.created))
    return out
