"""Signing test users in through the token endpoint: the password every API test city gives its
users, one user's Authorization header, and a lazy map of them."""

from __future__ import annotations

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
Headers = dict[str, str]


def sign_in(client: TestClient, name: str) -> Headers:
    resp = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


class SignIns(dict[str, Headers]):
    """Authorization headers per test user, signed in on first use (sign-ins cost time)."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def __missing__(self, name: str) -> Headers:
        self[name] = sign_in(self.client, name)
        return self[name]
