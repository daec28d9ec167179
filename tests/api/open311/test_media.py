"""Photos sent as multipart ``media`` / ``photoN``: sniffed, kept with the case, served back."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from onegrid.cases.attachments import ATTACHMENTS
from onegrid.cases.records import CASES
from onegrid.db.session import Database
from tests.api.open311.conftest import BASE, Keys, errors_json, form, valid_json

pytestmark = pytest.mark.postgres


def image(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, format=fmt)
    return out.getvalue()


def rows(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as s:
        cases = s.execute(select(func.count()).select_from(CASES)).scalar_one()
        files = s.execute(select(func.count()).select_from(ATTACHMENTS)).scalar_one()
    return int(cases), int(files)


def send(client: TestClient, keys: Keys, files: dict[str, tuple[str, bytes, str]]) -> object:
    data = {**form(), "api_key": keys.client}
    return client.post(f"{BASE}/requests.json", data=data, files=files)


def test_media_and_photos_are_kept_and_served(client: TestClient, keys: Keys, db: Database) -> None:
    png, jpeg = image("PNG"), image("JPEG")
    resp = client.post(
        f"{BASE}/requests.json",
        data={**form(), "api_key": keys.client},
        files=[("photo1", ("a.png", png, "image/png")), ("photo2", ("b", jpeg, "image/jpeg"))],
    )
    assert resp.status_code == 200, resp.text
    number = resp.json()[0]["service_request_id"]
    assert rows(db) == (1, 2)
    [request] = valid_json(
        client.get(f"{BASE}/requests/{number}.json", params={"extensions": "true"}), "requests"
    )
    photos = request["extended_attributes"]["photos"]
    assert [p["title"] for p in photos] == ["a.png", "b.jpg"]
    assert request["media_url"] == photos[0]["media_url"]
    assert request["media_url"].startswith(f"http://testserver{BASE}/media/")
    served = client.get(request["media_url"])
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
    single = send(client, keys, {"media": ("c.jpg", jpeg, "image/jpeg")})
    assert single.status_code == 200, single.text  # type: ignore[attr-defined]


def test_a_guessed_media_address_is_404(client: TestClient, keys: Keys) -> None:
    resp = send(client, keys, {"media": ("c.png", image(), "image/png")})
    number = resp.json()[0]["service_request_id"]  # type: ignore[attr-defined]
    [request] = client.get(f"{BASE}/requests/{number}.json").json()
    url: str = request["media_url"]
    wrong = url.rsplit("-", 1)[0] + "-0000000000000000.png"
    assert client.get(wrong).status_code == 404
    assert client.get(f"{BASE}/media/1.png").status_code == 404


NOT_WHAT_THEY_CLAIM: list[tuple[tuple[str, bytes | str, str], str]] = [
    (("a.jpg", b"\xff\xd8 not really", "image/jpeg"), "not a readable"),
    (("a.jpg", "PNG", "image/jpeg"), "named .jpg but its content is image/png"),
    (("photo", "PNG", "image/jpeg"), "claims to be image/jpeg"),
    (("a.exe", b"MZ", "application/octet-stream"), "only"),
    (("a.pdf", b"%PDF-1.4\n%%EOF", "application/pdf"), "photos only"),
]


def test_media_that_is_not_what_it_claims_is_a_400_and_nothing_is_kept(
    client: TestClient, keys: Keys, db: Database
) -> None:
    for (name, data, declared), words in NOT_WHAT_THEY_CLAIM:
        content = image(data) if isinstance(data, str) else data
        resp = send(client, keys, {"media": (name, content, declared)})
        [error] = errors_json(resp, 400)
        assert words in error["description"] and "media" in error["description"], error
    assert rows(db) == (0, 0)


def test_too_many_files_is_a_400(client: TestClient, keys: Keys, db: Database) -> None:
    png = image()
    files = [(f"photo{i}", (f"{i}.png", png, "image/png")) for i in range(1, 7)]
    resp = client.post(
        f"{BASE}/requests.json", data={**form(), "api_key": keys.client}, files=files
    )
    [error] = errors_json(resp, 400)
    assert "at most 5" in error["description"]
    assert rows(db) == (0, 0)
