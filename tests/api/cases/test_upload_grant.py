"""A citizen who reports without an account attaches photos under the grant the create reply
carries: for that case only, for uploads only, photos only, for half an hour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onegrid.core.clock import FixedClock
from tests.api.cases.conftest import Headers
from tests.api.cases.test_cases_api import BASE, body, png, rule_of

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("city")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _report(client: TestClient, headers: Headers | None = None) -> tuple[dict[str, Any], str]:
    resp = client.post(BASE, json=body(channel="web_app"), headers=headers or {})
    assert resp.status_code == 201, resp.text
    return resp.json(), resp.headers.get("Upload-Token", "")


def _upload(client: TestClient, case_id: int, token: str | None, name: str = "scene.png") -> Any:
    headers = {"Upload-Token": token} if token is not None else {}
    files = {"file": (name, png() if name.endswith(".png") else PDF, "application/octet-stream")}
    return client.post(f"{BASE}/{case_id}/attachments", headers=headers, files=files)


def test_an_anonymous_reporter_attaches_photos_with_the_grant(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    case, token = _report(client)
    assert token
    up = _upload(client, case["id"], token)
    assert up.status_code == 201, up.text
    listed = client.get(f"{BASE}/{case['id']}/attachments", headers=as_["leader"]).json()
    assert [(a["filename"], a["media_type"]) for a in listed] == [("scene.png", "image/png")]
    # The grant uploads; it does not read (the case's attachments stay its readers').
    assert (
        client.get(f"{BASE}/{case['id']}/attachments", headers={"Upload-Token": token}).status_code
        == 401
    )


def test_without_a_grant_an_anonymous_upload_is_refused(client: TestClient) -> None:
    case, _ = _report(client)
    refused = _upload(client, case["id"], None)
    assert refused.status_code == 403
    assert "case.comment" in refused.json()["detail"]


def test_a_grant_is_for_its_own_case_and_signed_by_this_server(client: TestClient) -> None:
    mine, token = _report(client)
    other, _ = _report(client)
    refused = _upload(client, other["id"], token)
    assert refused.status_code == 403
    assert "upload_grant_case" in refused.json()["detail"]
    forged = _upload(client, mine["id"], token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"))
    assert forged.status_code == 403
    assert "upload_grant_invalid" in forged.json()["detail"]


def test_an_expired_grant_is_refused(client: TestClient, clock: FixedClock) -> None:
    case, token = _report(client)
    clock.advance(timedelta(minutes=29))
    assert _upload(client, case["id"], token).status_code == 201
    clock.advance(timedelta(minutes=1))
    late = _upload(client, case["id"], token)
    assert late.status_code == 403
    assert "upload_grant_expired" in late.json()["detail"]


def test_a_grant_takes_photos_only_and_five_at_most(client: TestClient) -> None:
    case, token = _report(client)
    pdf = _upload(client, case["id"], token, "form.pdf")
    assert pdf.status_code == 422 and rule_of(pdf) == "upload_grant_photos"
    fake = client.post(
        f"{BASE}/{case['id']}/attachments",
        headers={"Upload-Token": token},
        files={"file": ("x.png", b"not a png", "image/png")},
    )
    assert fake.status_code == 422 and rule_of(fake) == "attachment_content_type"
    for _ in range(5):
        assert _upload(client, case["id"], token).status_code == 201
    sixth = _upload(client, case["id"], token)
    assert sixth.status_code == 422 and rule_of(sixth) == "upload_grant_files"


def test_a_reporter_who_may_attach_anyway_gets_no_grant(
    client: TestClient, as_: dict[str, Headers]
) -> None:
    _, citizen_token = _report(client, as_["citizen"])
    _, inspector_token = _report(client, as_["insp"])
    assert citizen_token == inspector_token == ""
