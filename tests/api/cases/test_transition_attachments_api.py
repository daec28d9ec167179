"""Attachments sent with a step are kept in its history entry, on every step that takes a body
with them (dispatch, extension approval, merge and split included), or the step is refused
naming them: never dropped. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, create, png, post

pytestmark = pytest.mark.postgres


def upload(client: TestClient, case: dict[str, Any], who: Headers) -> int:
    resp = client.post(
        f"{BASE}/{case['id']}/attachments",
        headers=who,
        files={"file": ("sheet.png", png(), "image/png")},
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def history(client: TestClient, case_id: int, who: Headers) -> list[dict[str, Any]]:
    resp = client.get(f"{BASE}/{case_id}/history", headers=who)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def refused_then_kept(
    client: TestClient,
    case: dict[str, Any],
    action: str,
    who: Headers,
    *,
    mine: int,
    theirs: int,
    **body: Any,
) -> Any:
    """Another case's file is refused, naming the field and the rule, and nothing is written;
    the case's own is kept in the step's history entry."""
    before = history(client, case["id"], who)
    foreign = post(client, case, action, who, attachments=[theirs], **body)
    assert foreign.status_code == 422, foreign.text
    problem = foreign.json()["errors"][0]
    assert (problem["field"], problem["rule"]) == ("attachments", "attachment_of_case")
    assert history(client, case["id"], who) == before
    resp = post(client, case, action, who, attachments=[mine], **body)
    assert resp.status_code in (200, 201), resp.text
    last = history(client, case["id"], who)[-1]
    assert (last["action"], last["attachment_ids"]) == (action.replace("-", "_"), [mine])
    return resp.json()


def test_dispatch_and_extension_approval_keep_their_attachments(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case, other = create(client, as_["insp"]), create(client, as_["insp"])
    mine, theirs = upload(client, case, as_["disp"]), upload(client, other, as_["disp"])
    case = post(client, case, "file", as_["leader"]).json()
    case = refused_then_kept(client, case, "dispatch", as_["disp"], mine=mine, theirs=theirs,
                             department_code="sanitation")  # fmt: skip
    assert case["status"] == "dispatched"
    case = post(client, case, "accept", as_["sanit"]).json()
    case = post(client, case, "extend-request", as_["sanit"], reason="parts on order", amount=1,
                unit="working_days").json()  # fmt: skip
    assert case["extension_pending"] == "1 working_days"
    case = refused_then_kept(client, case, "extend-approve", as_["leader"], mine=mine,
                             theirs=theirs)  # fmt: skip
    assert (case["extension_pending"], case["extensions_granted"]) == (None, 1)


def test_merge_and_split_keep_their_attachments_on_the_case_they_act_on(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    keep, dup = create(client, as_["insp"]), create(client, as_["hotline"], channel="hotline")
    mine, theirs = upload(client, dup, as_["leader"]), upload(client, keep, as_["leader"])
    merged = refused_then_kept(client, dup, "merge", as_["hotline"], mine=mine, theirs=theirs,
                               into_case_id=keep["id"])  # fmt: skip
    assert merged["status"] == "merged"
    # The surviving case's entry names the duplicate; the duplicate's files stay its own.
    noted = history(client, keep["id"], as_["leader"])[-1]
    assert (noted["action"], noted["attachment_ids"]) == ("duplicate_merged", [])

    keep = post(client, keep, "file", as_["leader"]).json()
    parts = [{"department_code": "sanitation"}, {"department_code": "roads"}]
    split = refused_then_kept(client, keep, "split", as_["leader"], mine=theirs, theirs=mine,
                              lead_department_code="roads", parts=parts)  # fmt: skip
    assert split["parent"]["status"] == "split" and len(split["children"]) == 2
    for child in split["children"]:
        (created,) = history(client, child["id"], as_["leader"])
        assert (created["action"], created["attachment_ids"]) == ("create", [])


def test_every_step_body_with_attachments_is_one_that_keeps_them(client: TestClient) -> None:
    """A new step whose body takes ``attachments`` must be added here (and keep them or refuse
    them): the four that used to drop them are named in the summary."""
    paths = client.get("/openapi.json").json()
    schemas = paths["components"]["schemas"]
    taking = set()
    for path, ops in paths["paths"].items():
        op = ops.get("post", {})
        ref = (
            op.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
            .get("$ref", "")
        )
        if ref and "attachments" in schemas[ref.rsplit("/", 1)[1]].get("properties", {}):
            taking.add(path.removeprefix(f"{BASE}/{{case_id}}/"))
            if path.rsplit("/", 1)[1] in ("dispatch", "extend-approve", "merge", "split"):
                assert "attachments" in op["summary"], path
    assert taking == {
        *("verify", "file", "cancel", "accept", "return", "handle", "report-back", "close"),
        *("rework", "extend-refuse", "hold", "hold-refuse", "resume", "reopen", "dispatch"),
        *("check", "extend-request", "extend-approve", "hold-request", "merge", "split"),
    }
