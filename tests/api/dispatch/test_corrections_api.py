"""The operators' corrections over HTTP: a page at a time and as the console's CSV, for a
city-wide analytics.export grant that may also read reporters' personal data, texts masked; on
SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onegrid.core.clock import FixedClock
from onegrid.db.session import Database
from onegrid.dispatch.classifier.queries import CSV_COLUMNS
from onegrid.dispatch.classifier.services import correct
from onegrid.dispatch.models import ClassifierCorrectionRow
from onegrid.people import services as people
from onegrid.people.domain import Grant, Role, Scope
from tests.api.dispatch.conftest import PASSWORD, Headers
from tests.integration.cases.city import CORE, IN_CORE

pytestmark = pytest.mark.postgres
LIST, EXPORT = "/api/v1/classifier/corrections", "/api/v1/classifier/corrections/export"
SAID = "我是王先生，电话 138 1234 5678，人民路１２号门口垃圾堆积三天无人清理"
MASKED = "我是王先生，电话 0 0 0，人民路0号门口垃圾堆积三天无人清理"
# A city-wide shift leader and dispatcher (among others): export and personal data, city-wide.
READER = "desk"


@pytest.fixture
def kept(
    client: TestClient, as_: dict[str, Headers], db: Database, clock: FixedClock
) -> dict[str, Any]:
    """Four corrections: one a day earlier, one from the desk (a phone number in the text), one
    of another model, and one kept raw before the desk masked digits."""
    clock.advance(timedelta(days=-1))
    old = correct(db, "default", text="路灯不亮", label="E0101", clock=clock)
    clock.advance(timedelta(days=1))
    call = {
        "nature": "complaint",
        "text": SAID,
        "lon": IN_CORE[0],
        "lat": IN_CORE[1],
        "category_code": "E0102",
        "suggested_category": "E0103",
        "suggested_confidence": 0.62,
        "model_version": "v1",
    }
    made = client.post("/api/v1/hotline/calls", json=call, headers=as_["desk"])
    assert made.status_code == 201, made.text
    other = correct(db, "other", text="井盖丢了", label="E0103", clock=clock)
    with db.unit_of_work() as s:
        raw = ClassifierCorrectionRow(
            model="default",
            decided_at=clock.now(),
            decided_by="console",
            text="回电 13900001111",
            chosen_category="E0101",
        )
        s.add(raw)
        s.flush()
        raw_id = raw.id
    return {"old": old.id, "call": made.json(), "other": other.id, "raw": raw_id}


def test_a_reader_pages_through_the_corrections_oldest_first(
    client: TestClient, as_: dict[str, Headers], kept: dict[str, Any]
) -> None:
    first = client.get(LIST, params={"limit": 2}, headers=as_[READER])
    assert first.status_code == 200, first.text
    page = first.json()
    assert [c["text"] for c in page["items"]] == ["路灯不亮", MASKED]
    desk = page["items"][1]
    assert (desk["call_id"], desk["case_id"]) == (
        kept["call"]["call"]["id"],
        kept["call"]["case_id"],
    )
    assert (desk["suggested_category"], desk["chosen_category"], desk["confirmed"]) == (
        "E0103",
        "E0102",
        False,
    )
    assert page["next_cursor"]
    rest = client.get(
        LIST, params={"limit": 2, "cursor": page["next_cursor"]}, headers=as_[READER]
    ).json()
    assert [c["id"] for c in rest["items"]] == [kept["other"], kept["raw"]]
    assert rest["next_cursor"] is None
    # A text kept before masking is masked on the way out too.
    assert rest["items"][1]["text"] == "回电 0"


def test_the_filters_of_the_console_list(
    client: TestClient, as_: dict[str, Headers], kept: dict[str, Any]
) -> None:
    def ids(**params: str) -> list[int]:
        resp = client.get(LIST, params=params, headers=as_[READER])
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    # 2026-03-02 01:00 UTC is 09:00 in Beijing: the old one was decided on 03-01 there.
    assert ids(until="2026-03-01") == [kept["old"]]
    assert kept["old"] not in ids(since="2026-03-02")
    assert ids(model="other") == [kept["other"]]
    assert ids(since="2026-03-01", until="2026-03-01T09:00+08:00") == []
    assert len(ids(since="2026-03-01T09:00+08:00", until="2026-03-02T09:00:01+08:00")) == 4


def test_the_export_is_the_consoles_csv_with_digits_masked(
    client: TestClient, as_: dict[str, Headers], kept: dict[str, Any]
) -> None:
    resp = client.get(EXPORT, params={"model": "default"}, headers=as_[READER])
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert "classifier_corrections.csv" in resp.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(resp.text))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)
    assert [r["text"] for r in rows] == ["路灯不亮", MASKED, "回电 0"]
    assert not any(ch.isdigit() and ch != "0" for r in rows for ch in r["text"])
    assert rows[1]["decided_at"] == "2026-03-02T01:00:00+00:00"
    since = client.get(EXPORT, params={"since": "2026-03-02"}, headers=as_[READER])
    assert len(list(csv.DictReader(io.StringIO(since.text)))) == 3


@pytest.mark.parametrize("path", [LIST, EXPORT])
@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"since": "March"}, "since", "iso_date"),
        ({"until": "2026-02-30"}, "until", "iso_date"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until", "end_not_before_start"),
        (
            {"since": "2026-03-02T10:00", "until": "2026-03-02T09:00"},
            "until",
            "end_not_before_start",
        ),
    ],
)
def test_bad_dates_are_a_422_naming_the_field(
    client: TestClient,
    as_: dict[str, Headers],
    path: str,
    params: dict[str, str],
    field: str,
    rule: str,
) -> None:
    resp = client.get(path, params=params, headers=as_[READER])
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["rule"]) for e in resp.json()["errors"]] == [(field, rule)]


def test_a_cursor_not_given_out_is_a_422(client: TestClient, as_: dict[str, Headers]) -> None:
    resp = client.get(LIST, params={"cursor": "not-one"}, headers=as_[READER])
    assert resp.status_code == 422
    assert [(e["field"], e["rule"]) for e in resp.json()["errors"]] == [("cursor", "cursor_format")]


def test_only_a_city_wide_export_grant_reads_them(
    client: TestClient, as_: dict[str, Headers], db: Database, clock: FixedClock
) -> None:
    for path in (LIST, EXPORT):
        assert client.get(path).status_code == 401
        for who in ("operator", "insp", "sanit"):
            assert client.get(path, headers=as_[who]).status_code == 403, (path, who)
    with db.unit_of_work() as s:
        people.create_user(
            s, "area.leader", PASSWORD, clock, grants=[Grant(Role.SHIFT_LEADER, Scope.area(CORE))]
        )
    area = as_["area.leader"]
    for path in (LIST, EXPORT):
        refused = client.get(path, headers=area)
        assert refused.status_code == 403
        assert "city grants only" in refused.json()["detail"]
        # A city-wide dispatcher holds analytics.export too.
        assert client.get(path, headers=as_["desk"]).status_code == 200


def test_an_analyst_alone_may_not_read_what_callers_said(
    client: TestClient, as_: dict[str, Headers], db: Database, clock: FixedClock
) -> None:
    """analytics.export is not enough: the texts are personal data, so the grant must also
    reach reporters' personal data, city-wide."""
    for path in (LIST, EXPORT):
        refused = client.get(path, headers=as_["analyst"])
        assert refused.status_code == 403, (path, refused.text)
        detail = refused.json()["detail"]
        assert "case.read_personal_data" in detail and "analyst" in detail
    with db.unit_of_work() as s:
        for name, role in (("city.leader", Role.SHIFT_LEADER), ("city.disp", Role.DISPATCHER)):
            people.create_user(s, name, PASSWORD, clock, grants=[Grant(role, Scope.city())])
        people.create_user(
            s,
            "analyst.leader",
            PASSWORD,
            clock,
            grants=[Grant(Role.ANALYST, Scope.city()), Grant(Role.SHIFT_LEADER, Scope.city())],
        )
    for path in (LIST, EXPORT):
        for who in ("city.leader", "city.disp", "analyst.leader"):
            assert client.get(path, headers=as_[who]).status_code == 200, (path, who)


def test_the_openapi_document_shows_both_with_examples(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    listing = doc["paths"][LIST]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"model", "since", "until", "cursor"}
    assert doc["components"]["schemas"]["CorrectionOut"]["examples"]
    export = doc["paths"][EXPORT]["get"]["responses"]["200"]["content"]["text/csv"]
    assert export["example"].startswith(",".join(CSV_COLUMNS))


def _raw(db: Database, clock: FixedClock, *texts: str) -> list[int]:
    """Rows as kept before the desk masked anything (or masked only digits)."""
    with db.unit_of_work() as s:
        rows = [
            ClassifierCorrectionRow(
                model="default",
                decided_at=clock.now(),
                decided_by="console",
                text=t,
                chosen_category="E0101",
            )
            for t in texts
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def test_numbers_read_out_in_chinese_and_e_mail_addresses_are_masked(
    client: TestClient, as_: dict[str, Headers], db: Database, clock: FixedClock
) -> None:
    _raw(db, clock, "电话一三八一二三四五六七八，邮箱 wang.li@qq.com，两个人一个月没人管")
    expected = "电话0，邮箱 [email]，两个人一个月没人管"
    listed = client.get(LIST, headers=as_[READER])
    assert [c["text"] for c in listed.json()["items"]] == [expected]
    exported = client.get(EXPORT, headers=as_[READER])
    assert [r["text"] for r in csv.DictReader(io.StringIO(exported.text))] == [expected]


def test_the_desk_keeps_a_call_masked_as_well(
    client: TestClient, as_: dict[str, Headers], db: Database
) -> None:
    call = {
        "nature": "complaint",
        "text": "回电幺三九零零零零幺幺幺幺 或 li@163.com，人民路垃圾堆积",
        "lon": IN_CORE[0],
        "lat": IN_CORE[1],
        "category_code": "E0102",
    }
    made = client.post("/api/v1/hotline/calls", json=call, headers=as_["desk"])
    assert made.status_code == 201, made.text
    with db.reader() as s:
        [kept] = s.scalars(select(ClassifierCorrectionRow.text)).all()
    assert kept == "回电0 或 [email]，人民路垃圾堆积"


@pytest.mark.parametrize("path", [LIST, EXPORT])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "0001-01-01"}, "since"),
        ({"until": "0001-01-01T00:00"}, "until"),
        ({"since": "9999-12-31T23:00-05:00"}, "since"),
        ({"until": "9999-12-31"}, "until"),
    ],
)
def test_times_out_of_range_are_a_422_not_a_500(
    client: TestClient,
    as_: dict[str, Headers],
    kept: dict[str, Any],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    resp = client.get(path, params=params, headers=as_[READER])
    assert resp.status_code == 422, resp.text
    assert [(e["field"], e["rule"]) for e in resp.json()["errors"]] == [(field, "range")]


def test_the_extreme_times_in_utc_are_taken(
    client: TestClient, as_: dict[str, Headers], kept: dict[str, Any]
) -> None:
    params = {"since": "0001-01-01T00:00Z", "until": "9999-12-31T23:59Z"}
    for path in (LIST, EXPORT):
        resp = client.get(path, params=params, headers=as_[READER])
        assert resp.status_code == 200, resp.text


def test_an_offsets_plus_sent_unencoded_is_read_as_a_plus(
    client: TestClient, as_: dict[str, Headers], kept: dict[str, Any]
) -> None:
    # In a query string a bare + is a space: 2026-03-02T09:00 08:00 as the server reads it.
    resp = client.get(f"{LIST}?since=2026-03-02T09:00+08:00", headers=as_[READER])
    assert resp.status_code == 200, resp.text
    encoded = client.get(LIST, params={"since": "2026-03-02T09:00+08:00"}, headers=as_[READER])
    assert resp.json() == encoded.json()
    assert kept["old"] not in [c["id"] for c in resp.json()["items"]]


@pytest.mark.parametrize("value", ["3000000000", "2147483648", "99999999999999999"])
def test_a_cursor_past_the_largest_id_is_a_422(
    client: TestClient, as_: dict[str, Headers], value: str
) -> None:
    cursor = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
    resp = client.get(LIST, params={"cursor": cursor}, headers=as_[READER])
    assert resp.status_code == 422, resp.text
    assert [(e["field"], e["rule"]) for e in resp.json()["errors"]] == [("cursor", "cursor_format")]


def test_a_cursor_at_the_largest_id_is_the_end(
    client: TestClient, as_: dict[str, Headers], kept: dict[str, Any]
) -> None:
    cursor = base64.urlsafe_b64encode(b"2147483647").decode().rstrip("=")
    resp = client.get(LIST, params={"cursor": cursor}, headers=as_[READER])
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"items": [], "next_cursor": None}


def test_no_exported_cell_runs_as_a_spreadsheet_formula(
    client: TestClient, as_: dict[str, Headers], db: Database, clock: FixedClock
) -> None:
    said = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-0+0", "@SUM(A0)", "\t=0", "好的"]
    _raw(db, clock, *said)
    resp = client.get(EXPORT, headers=as_[READER])
    assert resp.status_code == 200, resp.text
    texts = [r["text"] for r in csv.DictReader(io.StringIO(resp.text))]
    assert texts == [
        '\'=HYPERLINK("http://x")',
        "'+cmd|' /C calc'!A0",
        "'-0+0",
        "'@SUM(A0)",
        "'\t=0",
        "好的",
    ]
