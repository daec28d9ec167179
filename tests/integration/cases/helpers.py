"""Shared steps for the case tests: a report, a photo, a case walked to a given status."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from onegrid.cases import services
from onegrid.cases.attachments import AttachmentStore, add_attachment
from onegrid.cases.config import CaseRules
from onegrid.cases.domain.intake import NewCase, Reporter
from onegrid.cases.domain.states import Channel
from onegrid.cases.records import CaseRecord
from onegrid.core.clock import Clock
from onegrid.db.session import Database
from onegrid.people.domain import Principal
from tests.integration.cases.city import (
    DISPATCHER,
    IN_CORE,
    INSPECTOR,
    SANITATION,
    SHIFT,
)


def report(
    category: str = "E0102",
    channel: Channel = Channel.INSPECTOR,
    where: tuple[float, float] = IN_CORE,
    **kw: object,
) -> NewCase:
    values: dict[str, object] = dict(
        category_code=category,
        channel=channel,
        description="路边垃圾堆积",
        lon=where[0],
        lat=where[1],
        address="示范路 1 号",
        reporter=Reporter("张三", "13812345678", "zhang@example.cn"),
    )
    values.update(kw)
    return NewCase(**values)  # type: ignore[arg-type]


def png_bytes(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="PNG")
    return out.getvalue()


def new_case(
    db: Database, clock: Clock, rules: CaseRules, by: Principal = INSPECTOR, **kw: object
) -> CaseRecord:
    return services.create_case(db, by, report(**kw), clock=clock, rules=rules).case


def to_handling(db: Database, clock: Clock, rules: CaseRules, **kw: object) -> CaseRecord:
    rec = new_case(db, clock, rules, **kw)
    services.file_case(db, SHIFT, rec.id, clock=clock, rules=rules)
    services.dispatch_case(db, DISPATCHER, rec.id, clock=clock, rules=rules)
    return services.accept_case(db, SANITATION, rec.id, clock=clock, rules=rules)


def photo(db: Database, clock: Clock, case_id: int, tmp: Path, by: Principal = SANITATION) -> int:
    return add_attachment(
        db,
        by,
        case_id,
        filename="after.png",
        data=png_bytes(),
        clock=clock,
        store=AttachmentStore(tmp / "attachments"),
        max_bytes=1_000_000,
    ).id
