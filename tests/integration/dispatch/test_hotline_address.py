"""The hotline desk places a call by the standard address register (标准地址库) instead of a
point, through its services, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onegrid.cases.models import CaseRow
from onegrid.core.clock import FixedClock
from onegrid.core.errors import InvalidInput
from onegrid.db.session import Database
from onegrid.dispatch.hotline.intake import CallDraft
from onegrid.dispatch.hotline.preview import preview_call
from onegrid.dispatch.hotline.services import DeskRules, record_call
from onegrid.dispatch.models import ClassifierCorrectionRow, HotlineCallRow
from tests.integration.cases.city import CORE_ADDRESS, SUBURB, SUBURB_ADDRESS, load_register
from tests.integration.dispatch.city import DESK, OPERATOR, call_draft

pytestmark = pytest.mark.postgres


@pytest.fixture
def registered(city: Database, clock: FixedClock) -> Database:
    with city.unit_of_work() as s:
        load_register(s, clock)
    return city


def _at(address_id: str, **kw: object) -> CallDraft:
    return call_draft(lon=None, lat=None, address_id=address_id, **kw)


def _rows(db: Database) -> tuple[int, int, int]:
    with db.reader() as s:
        return tuple(  # type: ignore[return-value]
            int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (HotlineCallRow, CaseRow, ClassifierCorrectionRow)
        )


def test_a_call_at_a_registered_address_gets_its_point_text_and_id(
    registered: Database, clock: FixedClock, desk: DeskRules
) -> None:
    address_id, text, (lon, lat) = SUBURB_ADDRESS
    result = record_call(registered, DESK, _at(f" {address_id} "), clock=clock, rules=desk)
    rec = result.case
    assert rec is not None
    assert (rec.address_id, rec.address, rec.lon, rec.lat) == (address_id, text, lon, lat)
    assert rec.district_code == SUBURB  # the register's point placed it
    assert (result.call.lon, result.call.lat, result.call.address) == (lon, lat, text)


def test_the_address_the_operator_wrote_stays_beside_the_registers_point(
    registered: Database, clock: FixedClock, desk: DeskRules
) -> None:
    address_id, _, (lon, lat) = CORE_ADDRESS
    draft = _at(address_id, address="东门外")
    result = record_call(registered, DESK, draft, clock=clock, rules=desk)
    assert result.case is not None
    assert (result.case.address_id, result.case.address) == (address_id, "东门外")
    assert (result.case.lon, result.case.lat) == (lon, lat)


def test_the_preview_routes_at_the_registers_point(
    registered: Database, clock: FixedClock, desk: DeskRules
) -> None:
    with registered.reader() as s:
        seen = preview_call(s, OPERATOR, _at(CORE_ADDRESS[0]), rules=desk, now=clock.now())
    assert seen.route is not None and seen.route.department_code == "sanitation"


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"lon": None, "lat": None, "address_id": "110101001001-9999"}, "known_address"),
        ({"address_id": CORE_ADDRESS[0]}, "one_place"),  # beside the default point
    ],
)
def test_an_unknown_id_or_two_places_is_refused_and_nothing_is_written(
    registered: Database,
    clock: FixedClock,
    desk: DeskRules,
    changes: dict[str, object],
    rule: str,
) -> None:
    before = _rows(registered)
    with pytest.raises(InvalidInput) as refused:
        record_call(registered, DESK, call_draft(**changes), clock=clock, rules=desk)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("address_id", rule)]
    assert _rows(registered) == before
