"""Acting before the call (未诉先办): an accepted forecast becomes a proactive case.

The case comes through the case context's own create path, on the higher-level instruction
channel (filed without on-site verification), at a point inside the area, with the department
the duty rules name suggested for dispatch. The forecast's identity is the idempotency key, so
accepting the same forecast twice opens one case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from onegrid.cases.config import CaseRules
from onegrid.cases.domain.intake import NewCase
from onegrid.cases.domain.states import Channel, Nature
from onegrid.cases.records import CaseRecord
from onegrid.cases.services.creating import create_case
from onegrid.core.clock import Clock
from onegrid.core.errors import NotFound
from onegrid.db.session import Database
from onegrid.grid.queries import get_area
from onegrid.people.domain import Principal


@dataclass(frozen=True)
class AcceptedForecast:
    category_code: str
    area_code: str
    month: date
    forecast: float


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
    out = []
    for a in accepted:
        with db.reader() as s:
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
                f"{a.category_code} forecast in {a.area_code} for {a.month:%Y-%m}; "
                "inspect and put right before they come."
            ),
            lon=float(point.x),
            lat=float(point.y),
            tags=("proactive", f"forecast:{a.month:%Y-%m}"),
        )
        key = f"proactive:{a.category_code}:{a.area_code}:{a.month:%Y-%m}"
        made = create_case(
            db, principal, new, clock=clock, rules=rules, idempotency_key=key, route=True
        )
        out.append(Opened(a, made.case, made.created))
    return out
